import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { seedSample } from '../src/fixtures/seed.js';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { authHeader } from './helpers/auth.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';
import { sql } from 'drizzle-orm';
import { selectRows } from '../src/db/queries/util.js';

// One published edition (the sample) and one newer draft edition.
let tdb: TestDb;
let app: App;
let draft: { issueId: number; slug: string; paperId: number };

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  await generateArchive(tdb.db, {
    editions: 1,
    papersPerIssue: 4,
    firstWeek: '2026-01-05',
    status: 'draft',
    categories: 5,
  });
  const [row] = await selectRows<{ issueId: number; slug: string; paperId: number }>(
    tdb.db,
    sql`SELECT i.id AS "issueId", i.slug, min(p.id) AS "paperId" FROM issues i JOIN papers p ON p.issue_id = i.id WHERE i.status = 'draft' GROUP BY i.id`,
  );
  draft = row!;
  app = createApp({ db: tdb.db });
});
afterAll(async () => {
  await tdb?.destroy();
});

describe('drafts are invisible to anonymous readers', () => {
  it('through every entry point', async () => {
    const res = await gql(
      app,
      graphql(`query EveryEntryPoint($slug: String!, $iid: ID!, $pid: ID!) {
        latestIssue { slug }
        issue(slug: $slug) { id }
        issues(first: 100) { totalCount nodes { slug } }
        drafts: issues(filter: { status: DRAFT }) { totalCount nodes { slug } }
        node(id: $iid) { id }
        paperNode: node(id: $pid) { id }
        nodes(ids: [$iid, $pid]) { id }
        paper(issue: $slug, number: "1.1") { id }
        papers(first: 100) { totalCount nodes { issue { slug } } }
        byIssue: papers(filter: { issue: $slug }) { totalCount }
        categories { paperCount papers(first: 100) { totalCount nodes { issue { slug } } } }
      }`),
      { slug: draft.slug, iid: encodeGlobalId('Issue', draft.issueId), pid: encodeGlobalId('Paper', draft.paperId) },
    );
    expect(res.body.errors).toBeUndefined();
    const d = res.body.data!;
    expect(d.latestIssue?.slug).toBe('2025-05-05');
    expect(d.issue).toBeNull();
    expect(d.issues.totalCount).toBe(1);
    expect(d.issues.nodes).toEqual([{ slug: '2025-05-05' }]);
    expect(d.drafts).toEqual({ totalCount: 0, nodes: [] });
    expect(d.node).toBeNull();
    expect(d.paperNode).toBeNull();
    expect(d.nodes).toEqual([null, null]);
    expect(d.paper).toBeNull();
    expect(d.papers.totalCount).toBe(15);
    expect(d.papers.nodes.every((n) => n.issue.slug === '2025-05-05')).toBe(true);
    expect(d.byIssue.totalCount).toBe(0);
    for (const c of d.categories) {
      expect(c.papers.totalCount).toBe(c.paperCount);
      expect(c.papers.nodes.every((n) => n.issue.slug === '2025-05-05')).toBe(true);
    }
    expect(d.categories.reduce((n, c) => n + c.paperCount, 0)).toBe(15);
  });

  it('an editor sees the draft in category pages, with the edition carried along (status included)', async () => {
    const editor = await authHeader(tdb.db);
    const q = graphql(
      `query CategoryPagesWithStatus { categories { papers(first: 100) { nodes { issue { slug status } } } } }`,
    );
    const asEditor = await gql(app, q, undefined, editor);
    expect(asEditor.body.errors).toBeUndefined();
    const editions = asEditor.body.data!.categories.flatMap((c) => c.papers.nodes.map((n) => n.issue));
    expect(editions.filter((i) => i.slug === draft.slug).every((i) => i.status === 'DRAFT')).toBe(true);
    expect(editions.some((i) => i.slug === draft.slug)).toBe(true);
    const anonymous = await gql(app, q);
    const seen = anonymous.body.data!.categories.flatMap((c) => c.papers.nodes.map((n) => n.issue.slug));
    expect(seen).not.toContain(draft.slug);
  });
});
