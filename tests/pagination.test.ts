import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { errorCode, gql } from './helpers/http.js';

// 30 weekly editions × 10 papers = 300 papers, spread over 6 categories.
const ISSUES = 30;
const PER_ISSUE = 10;

let tdb: TestDb;
let app: App;

beforeAll(async () => {
  tdb = await createTestDb();
  await generateArchive(tdb.db, { editions: ISSUES, papersPerIssue: PER_ISSUE, categories: 6, seed: 7 });
  app = createApp({ db: tdb.db });
});
afterAll(async () => {
  await tdb?.destroy();
});

type Page = { edges: Array<{ cursor: string; node: { id: string; key: string } }>; pageInfo: any; totalCount: number };

/** Walks a connection to its end with first/after or last/before, returning node ids in list order. */
async function walk(
  field: (args: string) => string,
  pick: (data: any) => Page,
  size: number,
  backward: boolean,
): Promise<{ ids: string[]; pages: number; totalCount: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  let totalCount = -1;
  for (;;) {
    const args = backward ? `last: ${size}, before: $cursor` : `first: ${size}, after: $cursor`;
    const res = await gql(app, `query($cursor: String) { ${field(args)} }`, { cursor });
    expect(res.body.errors).toBeUndefined();
    const page = pick(res.body.data);
    totalCount = page.totalCount;
    pages++;
    const nodes = page.edges.map((e) => e.node.id);
    if (backward) ids.unshift(...nodes);
    else ids.push(...nodes);
    if (pages > 1) expect(backward ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage).toBe(true);
    const more = backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
    if (!more) break;
    cursor = backward ? page.pageInfo.startCursor : page.pageInfo.endCursor;
    expect(pages).toBeLessThan(1000);
  }
  return { ids, pages, totalCount };
}

const paperFields = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id key: number } }`;

describe('keyset pagination', () => {
  it('Query.papers: forward and backward walks give every paper once, in the same order', async () => {
    const field = (a: string) => `papers(${a}) { ${paperFields} }`;
    const fwd = await walk(field, (d) => d.papers, 7, false);
    const bwd = await walk(field, (d) => d.papers, 11, true);
    expect(fwd.totalCount).toBe(ISSUES * PER_ISSUE);
    expect(fwd.ids).toHaveLength(ISSUES * PER_ISSUE);
    expect(new Set(fwd.ids).size).toBe(ISSUES * PER_ISSUE);
    expect(bwd.ids).toEqual(fwd.ids);
    expect(fwd.pages).toBe(Math.ceil(300 / 7));
  });

  it('Query.papers: newest edition first, numbers ascending inside an edition; ASC reverses the editions only', async () => {
    const q = (dir: string) =>
      gql(
        app,
        `{ papers(first: 25, orderBy: { field: WEEK, direction: ${dir} }) { nodes { number issue { weekStart } } } }`,
      );
    const desc = (await q('DESC')).body.data!.papers.nodes;
    const asc = (await q('ASC')).body.data!.papers.nodes;
    const weeksDesc = desc.map((n: any) => n.issue.weekStart);
    expect(weeksDesc).toEqual([...weeksDesc].sort().reverse());
    const weeksAsc = asc.map((n: any) => n.issue.weekStart);
    expect(weeksAsc).toEqual([...weeksAsc].sort());
    const firstWeek = desc.filter((n: any) => n.issue.weekStart === weeksDesc[0]).map((n: any) => n.number);
    expect(firstWeek).toEqual(
      [...firstWeek].sort((a: string, b: string) => a.localeCompare(b, 'en', { numeric: true })),
    );
    expect(asc[0].number).toBe('1.1');
  });

  it('Query.issues: forward/backward in both orders', async () => {
    for (const direction of ['DESC', 'ASC']) {
      const field = (a: string) =>
        `issues(${a}, orderBy: { field: WEEK_START, direction: ${direction} }) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id key: weekStart } } }`;
      const fwd = await walk(field, (d) => d.issues, 4, false);
      const bwd = await walk(field, (d) => d.issues, 6, true);
      expect(fwd.ids).toHaveLength(ISSUES);
      expect(new Set(fwd.ids).size).toBe(ISSUES);
      expect(bwd.ids).toEqual(fwd.ids);
      expect(fwd.totalCount).toBe(ISSUES);
    }
  }, 60_000);

  it('Category.papers pages through one category without duplicates or gaps', async () => {
    const cats = await gql(app, `{ categories { slug paperCount } }`);
    const cat = cats.body.data!.categories[0];
    const field = (a: string) => `category(slug: "${cat.slug}") { papers(${a}) { ${paperFields} } }`;
    const fwd = await walk(field, (d) => d.category.papers, 9, false);
    const bwd = await walk(field, (d) => d.category.papers, 5, true);
    expect(fwd.ids).toHaveLength(cat.paperCount);
    expect(new Set(fwd.ids).size).toBe(cat.paperCount);
    expect(bwd.ids).toEqual(fwd.ids);
    const all = await walk(
      (a) => `papers(${a}, filter: { categories: ["${cat.slug}"] }) { ${paperFields} }`,
      (d) => d.papers,
      100,
      false,
    );
    expect(all.ids).toEqual(fwd.ids);
  });

  it('Issue.papers pages through one edition', async () => {
    const field = (a: string) => `latestIssue { papers(${a}) { ${paperFields} } }`;
    const fwd = await walk(field, (d) => d.latestIssue.papers, 3, false);
    const bwd = await walk(field, (d) => d.latestIssue.papers, 4, true);
    expect(fwd.ids).toHaveLength(PER_ISSUE);
    expect(bwd.ids).toEqual(fwd.ids);
  });

  it('filters: issue slug, week range, several categories', async () => {
    const issues = await gql(app, `{ issues(first: 3) { nodes { slug weekStart } } }`);
    const [newest, , third] = issues.body.data!.issues.nodes;
    const byIssue = await gql(
      app,
      `query($s: String) { papers(first: 100, filter: { issue: $s }) { totalCount nodes { issue { slug } } } }`,
      {
        s: newest.slug,
      },
    );
    expect(byIssue.body.data!.papers.totalCount).toBe(PER_ISSUE);
    expect(byIssue.body.data!.papers.nodes.every((n: any) => n.issue.slug === newest.slug)).toBe(true);
    const range = await gql(
      app,
      `query($f: Date, $t: Date) { papers(first: 100, filter: { weekFrom: $f, weekTo: $t }) { totalCount } issues(filter: { weekFrom: $f, weekTo: $t }) { totalCount nodes { weekStart } } }`,
      { f: third.weekStart, t: newest.weekStart },
    );
    expect(range.body.data!.papers.totalCount).toBe(3 * PER_ISSUE);
    expect(range.body.data!.issues.totalCount).toBe(3);
    const cats = (await gql(app, `{ categories { slug paperCount } }`)).body.data!.categories;
    const two = cats.slice(0, 2);
    const multi = await gql(app, `query($c: [String!]) { papers(filter: { categories: $c }) { totalCount } }`, {
      c: two.map((c: any) => c.slug),
    });
    expect(multi.body.data!.papers.totalCount).toBe(two[0].paperCount + two[1].paperCount);
    const none = await gql(app, `{ papers(filter: { categories: ["no-such-category"] }) { totalCount nodes { id } } }`);
    expect(none.body.data!.papers).toEqual({ totalCount: 0, nodes: [] });
  });

  it('page sizes must be 1 to 100: a clear error, not a silent clamp', async () => {
    for (const arg of ['first: 0', 'first: 101', 'first: -1', 'last: 101', 'last: 0', 'first: 2, last: 2']) {
      const res = await gql(app, `{ papers(${arg}) { totalCount } }`);
      expect(errorCode(res), arg).toBe('BAD_USER_INPUT');
      expect(res.body.errors![0]!.message).toMatch(/first|last/);
    }
    const nested = await gql(app, `{ categories { papers(first: 500) { totalCount } } }`);
    expect(errorCode(nested)).toBe('BAD_USER_INPUT');
    const ok = await gql(app, `{ papers(first: 100) { edges { cursor } } }`);
    expect(ok.body.data!.papers.edges).toHaveLength(100);
  });

  it('malformed cursors are BAD_USER_INPUT errors; cursors of another connection too', async () => {
    const issueCursor = (await gql(app, `{ issues(first: 1) { pageInfo { endCursor } } }`)).body.data!.issues.pageInfo
      .endCursor;
    const bad = [
      'not a cursor',
      '',
      Buffer.from('["paper",["2020-13-45",1,1,1]]').toString('base64url'),
      Buffer.from('["paper",["2020-01-06",1,1]]').toString('base64url'),
      Buffer.from('["paper",["2020-01-06","1; drop table papers",1,1]]').toString('base64url'),
      Buffer.from('{}').toString('base64url'),
      issueCursor,
      'x'.repeat(10_000),
    ];
    for (const after of bad) {
      const res = await gql(app, `query($a: String) { papers(first: 2, after: $a) { totalCount } }`, { a: after });
      expect(errorCode(res), after.slice(0, 30)).toBe('BAD_USER_INPUT');
    }
    const res = await gql(app, `query($b: String) { issues(last: 2, before: $b) { totalCount } }`, { b: 'zzz' });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
  });

  it('a cursor stays valid as a position: paging after the last item gives an empty page', async () => {
    const last = await gql(app, `{ papers(last: 1) { pageInfo { endCursor } } }`);
    const cursor = last.body.data!.papers.pageInfo.endCursor;
    const after = await gql(
      app,
      `query($c: String) { papers(first: 5, after: $c) { edges { cursor } pageInfo { hasNextPage hasPreviousPage } } }`,
      { c: cursor },
    );
    expect(after.body.data!.papers.edges).toEqual([]);
    expect(after.body.data!.papers.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });
});
