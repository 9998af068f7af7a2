import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { createToken, revokeToken } from '../src/auth/tokens.js';
import { selectRows } from '../src/db/queries/util.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createEvents } from '../src/events.js';
import { encodeGlobalId } from '../src/graphql/global-id.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { errorCode, gql } from './helpers/http.js';
import { graphql } from './graphql.js';
import { snapshot as snapshotOf } from './helpers/snapshot.js';

let tdb: TestDb;
let app: App;
const events = createEvents();
let editor: Record<string, string>;
let admin: Record<string, string>;

beforeAll(async () => {
  tdb = await createTestDb();
  app = createApp({ db: tdb.db, events });
});
beforeEach(async () => {
  await tdb.truncate();
  await seedSample(tdb.db);
  editor = await authHeader(tdb.db, 'editor');
  admin = await authHeader(tdb.db, 'admin');
});
afterAll(async () => {
  await tdb?.destroy();
});

const snapshot = () => snapshotOf(tdb.db);

async function sampleIds() {
  const res = await gql(
    app,
    graphql(`{ latestIssue { id version sections { category { id slug } papers { id number version } } } }`),
  );
  const issue = res.body.data!.latestIssue!;
  return {
    issueId: issue.id,
    issueVersion: issue.version,
    paper: issue.sections[1]!.papers[2]!,
    categoryIds: issue.sections.map((s) => s.category.id),
    categorySlugs: issue.sections.map((s) => s.category.slug),
  };
}

/**
 * `key` of a mutation result that selected it on one member of its union only
 * (`... on XPayload { key }`); throws when the result is another member.
 */
function member<T extends object, K extends string>(result: T, key: K): Extract<T, Record<K, unknown>>[K] {
  if (!(key in result)) throw new Error(`no ${key} in ${JSON.stringify(result)}`);
  return (result as Extract<T, Record<K, unknown>>)[key];
}

const LATEST_SLUG = graphql(`{ latestIssue { slug } }`);

describe('authentication', () => {
  it('no token: an anonymous reader', async () => {
    const res = await gql(app, LATEST_SLUG);
    expect(res.status).toBe(200);
    expect(res.body.data!.latestIssue!.slug).toBe('2025-05-05');
  });

  it('invalid, revoked or expired tokens are a 401 with a clear message, never anonymous', async () => {
    const { token: revoked } = await createToken(tdb.db, { name: 'to-revoke', scope: 'editor' });
    await revokeToken(tdb.db, 'to-revoke');
    const { token: expired } = await createToken(tdb.db, {
      name: 'expired',
      scope: 'editor',
      expiresAt: new Date(Date.now() - 1000),
    });
    const cases: Array<[string, RegExp]> = [
      ['Bearer llmp_not-a-real-token', /not valid/],
      ['Bearer nonsense', /not valid/],
      [`Bearer ${revoked}`, /revoked/],
      [`Bearer ${expired}`, /expired/],
      ['Basic dXNlcjpwYXNz', /Bearer/],
      ['Bearer', /Bearer/],
    ];
    for (const [header, message] of cases) {
      const res = await gql(app, LATEST_SLUG, undefined, { authorization: header });
      expect(res.status, header).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(errorCode(res)).toBe('UNAUTHENTICATED');
      expect(res.body.errors![0]!.message).toMatch(message);
      expect(res.body.data ?? null).toBeNull();
    }
  });

  it('a valid token records its last use', async () => {
    const { token } = await createToken(tdb.db, { name: 'used', scope: 'editor' });
    await gql(app, LATEST_SLUG, undefined, { authorization: `Bearer ${token}` });
    const [row] = await selectRows<{ used: boolean }>(
      tdb.db,
      sql`SELECT last_used_at IS NOT NULL AS used FROM api_tokens WHERE name = 'used'`,
    );
    expect(row!.used).toBe(true);
    const stored = await selectRows<{ token_hash: string }>(
      tdb.db,
      sql`SELECT token_hash FROM api_tokens WHERE name = 'used'`,
    );
    expect(stored[0]!.token_hash).not.toContain(token);
    expect(stored[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

/**
 * Every mutation with a valid input built from the sample edition. The documents are generated per
 * mutation (strings): the result read is the `__typename` under the mutation's name.
 */
async function mutationCases(): Promise<Array<{ name: string; query: string; variables: Record<string, unknown> }>> {
  const ids = await sampleIds();
  const cat = (slug: string) => ids.categoryIds[ids.categorySlugs.indexOf(slug)]!;
  const m = (name: string, inputType: string, input: Record<string, unknown>) => ({
    name,
    query: `mutation($input: ${inputType}!) { ${name}(input: $input) { __typename ... on UserError { message code } } }`,
    variables: { input },
  });
  return [
    m('createIssue', 'CreateIssueInput', { slug: 'new-week', title: 'A new week', weekStart: '2025-05-12' }),
    m('updateIssue', 'UpdateIssueInput', { id: ids.issueId, version: ids.issueVersion, title: 'Renamed' }),
    m('deleteIssue', 'DeleteIssueInput', { id: ids.issueId }),
    m('publishIssue', 'PublishIssueInput', { id: ids.issueId }),
    m('unpublishIssue', 'UnpublishIssueInput', { id: ids.issueId }),
    m('importIssue', 'ImportIssueInput', {
      text: '# T\n<!-- week: 2025-06-02..2025-06-08 -->\nS\n\n## 1. LLM Reasoning\n\n### 1.1. A paper\n\nText.\n',
      format: 'MARKDOWN',
    }),
    m('addPaper', 'AddPaperInput', { issueId: ids.issueId, category: 'llm-evaluation', title: 'Added', position: 1 }),
    m('updatePaper', 'UpdatePaperInput', { id: ids.paper.id, version: ids.paper.version, title: 'Changed' }),
    m('movePaper', 'MovePaperInput', { id: ids.paper.id, position: 1 }),
    m('deletePaper', 'DeletePaperInput', { id: ids.paper.id }),
    m('reorderSections', 'ReorderSectionsInput', {
      issueId: ids.issueId,
      categories: [...ids.categorySlugs].reverse(),
    }),
    m('createCategory', 'CreateCategoryInput', { slug: 'ai-agents', name: 'AI Agents' }),
    m('updateCategory', 'UpdateCategoryInput', { id: cat('llm-evaluation'), name: 'Evaluation of LLMs' }),
    m('mergeCategories', 'MergeCategoriesInput', {
      sourceId: cat('vision-language-models'),
      targetId: cat('llm-evaluation'),
    }),
  ];
}

describe('authorization: each scope × each mutation', () => {
  it('anonymous readers get FORBIDDEN for every mutation and nothing changes', async () => {
    for (const c of await mutationCases()) {
      const before = await snapshot();
      const res = await gql(app, c.query, c.variables);
      expect(errorCode(res), c.name).toBe('FORBIDDEN');
      expect(res.body.errors![0]!.message).toMatch(/editor token/);
      expect(await snapshot(), c.name).toBe(before);
    }
  });

  for (const scope of ['editor', 'admin'] as const) {
    it(`${scope} tokens may run every mutation`, async () => {
      for (const c of await mutationCases()) {
        await tdb.truncate();
        await seedSample(tdb.db);
        const headers = await authHeader(tdb.db, scope);
        const fresh = (await mutationCases()).find((x) => x.name === c.name)!;
        const before = await snapshot();
        const res = await gql<Record<string, { __typename: string }>>(app, fresh.query, fresh.variables, headers);
        expect(res.body.errors, c.name).toBeUndefined();
        expect(res.body.data![c.name]!.__typename, `${c.name}: ${JSON.stringify(res.body.data)}`).toMatch(/Payload$/);
        if (c.name !== 'publishIssue') expect(await snapshot(), c.name).not.toBe(before);
      }
    }, 60_000);
  }
});

describe('validation', () => {
  it('every rule gives a ValidationError with the field path, and writes nothing', async () => {
    const ids = await sampleIds();
    const cases: Array<[string, string, Record<string, unknown>, string[]]> = [
      [
        'createIssue',
        'CreateIssueInput',
        { slug: 'ok-slug', title: 'x'.repeat(501), weekStart: '2025-05-12' },
        ['input', 'title'],
      ],
      ['createIssue', 'CreateIssueInput', { slug: 'Bad Slug', title: 'T', weekStart: '2025-05-12' }, ['input', 'slug']],
      ['createIssue', 'CreateIssueInput', { slug: 'ok', title: '   ', weekStart: '2025-05-12' }, ['input', 'title']],
      [
        'createIssue',
        'CreateIssueInput',
        { slug: 'ok', title: 'T\u0000x', weekStart: '2025-05-12' },
        ['input', 'title'],
      ],
      [
        'createIssue',
        'CreateIssueInput',
        { slug: 'ok', title: 'T', weekStart: '2025-05-12', weekEnd: '2025-05-01' },
        ['input', 'weekEnd'],
      ],
      [
        'createIssue',
        'CreateIssueInput',
        { slug: 'ok', title: 'T', intro: 'i'.repeat(20_001), weekStart: '2025-05-12' },
        ['input', 'intro'],
      ],
      [
        'updateIssue',
        'UpdateIssueInput',
        { id: ids.issueId, version: ids.issueVersion, weekEnd: '2025-05-01' },
        ['input', 'weekEnd'],
      ],
      ['updateIssue', 'UpdateIssueInput', { id: 'garbage', version: 1, title: 'x' }, ['input', 'id']],
      ['updateIssue', 'UpdateIssueInput', { id: ids.paper.id, version: 1, title: 'x' }, ['input', 'id']],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T', summary: 's'.repeat(20_001) },
        ['input', 'summary'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T', url: 'javascript:alert(1)' },
        ['input', 'url'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T', url: 'not a url' },
        ['input', 'url'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T', arxivId: '2505.03335v2' },
        ['input', 'arxivId'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T', arxivId: "1'; drop table papers" },
        ['input', 'arxivId'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'no-such-category', title: 'T' },
        ['input', 'category'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T', position: 0 },
        ['input', 'position'],
      ],
      [
        'addPaper',
        'AddPaperInput',
        { issueId: ids.issueId, category: 'llm-reasoning', title: 'T\ud800' },
        ['input', 'title'],
      ],
      [
        'updatePaper',
        'UpdatePaperInput',
        { id: ids.paper.id, version: ids.paper.version, summary: 'a\u0000b' },
        ['input', 'summary'],
      ],
      ['movePaper', 'MovePaperInput', { id: ids.paper.id, position: 1000 }, ['input', 'position']],
      [
        'reorderSections',
        'ReorderSectionsInput',
        { issueId: ids.issueId, categories: ['llm-reasoning'] },
        ['input', 'categories'],
      ],
      ['createCategory', 'CreateCategoryInput', { slug: 'x--y', name: 'X' }, ['input', 'slug']],
      ['createCategory', 'CreateCategoryInput', { slug: 'xy', name: 'n'.repeat(201) }, ['input', 'name']],
      [
        'mergeCategories',
        'MergeCategoriesInput',
        { sourceId: ids.categoryIds[0], targetId: ids.categoryIds[0] },
        ['input', 'sourceId'],
      ],
    ];
    for (const [name, type, input, path] of cases) {
      const before = await snapshot();
      // generated per mutation: only the result under its name is read
      const res = await gql<Record<string, unknown>>(
        app,
        `mutation($input: ${type}!) { ${name}(input: $input) { __typename ... on ValidationError { message code path } } }`,
        { input },
        editor,
      );
      expect(res.body.errors, name).toBeUndefined();
      expect(res.body.data![name], `${name} ${JSON.stringify(input).slice(0, 80)}`).toMatchObject({
        __typename: 'ValidationError',
        code: 'VALIDATION',
        path,
      });
      expect(await snapshot()).toBe(before);
    }
  });
});

describe('conflicts and concurrency', () => {
  it('a duplicate slug is a ConflictError (issues and categories)', async () => {
    const a = await gql(
      app,
      graphql(
        `mutation { createIssue(input: { slug: "2025-05-05", title: "T", weekStart: "2025-06-02" }) { __typename ... on ConflictError { message } } }`,
      ),
      undefined,
      editor,
    );
    expect(a.body.data!.createIssue.__typename).toBe('ConflictError');
    const b = await gql(
      app,
      graphql(`mutation { createCategory(input: { slug: "llm-reasoning", name: "Dup" }) { __typename } }`),
      undefined,
      editor,
    );
    expect(b.body.data!.createCategory.__typename).toBe('ConflictError');
    const ids = await sampleIds();
    const c = await gql(
      app,
      graphql(
        `mutation($id: ID!, $v: Int!) { updateIssue(input: { id: $id, version: $v, slug: "2025-05-05" }) { __typename } }`,
      ),
      { id: ids.issueId, v: ids.issueVersion },
      editor,
    );
    expect(c.body.data!.updateIssue.__typename).toBe('UpdateIssuePayload');
  });

  it('a stale version is a ConflictError and writes nothing', async () => {
    const ids = await sampleIds();
    const ok = await gql(
      app,
      graphql(
        `mutation($id: ID!, $v: Int!) { updatePaper(input: { id: $id, version: $v, title: "First" }) { ... on UpdatePaperPayload { paper { version title } } } }`,
      ),
      { id: ids.paper.id, v: ids.paper.version },
      editor,
    );
    expect(member(ok.body.data!.updatePaper, 'paper')).toEqual({ version: ids.paper.version + 1, title: 'First' });
    const before = await snapshot();
    const stale = await gql(
      app,
      graphql(
        `mutation($id: ID!, $v: Int!) { updatePaper(input: { id: $id, version: $v, title: "Second" }) { __typename ... on UserError { message } } }`,
      ),
      { id: ids.paper.id, v: ids.paper.version },
      editor,
    );
    expect(stale.body.data!.updatePaper.__typename).toBe('ConflictError');
    expect(await snapshot()).toBe(before);
    const staleIssue = await gql(
      app,
      graphql(`mutation($id: ID!) { updateIssue(input: { id: $id, version: 999, title: "x" }) { __typename } }`),
      { id: ids.issueId },
      editor,
    );
    expect(staleIssue.body.data!.updateIssue.__typename).toBe('ConflictError');
  });

  it('twenty concurrent updates with the same version: exactly one wins', async () => {
    const ids = await sampleIds();
    for (const [field, id, version] of [
      ['updateIssue', ids.issueId, ids.issueVersion],
      ['updatePaper', ids.paper.id, ids.paper.version],
    ] as const) {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          // one document per mutation field, generated: only its __typename is read
          gql<Partial<Record<typeof field, { __typename: string } | null>>>(
            app,
            `mutation($id: ID!, $v: Int!, $t: String!) { ${field}(input: { id: $id, version: $v, title: $t }) { __typename } }`,
            { id, v: version, t: `Title ${i}` },
            editor,
          ),
        ),
      );
      const kinds = results.map((r) => r.body.data?.[field]?.__typename ?? JSON.stringify(r.body.errors));
      expect(
        kinds.filter((k) => k.endsWith('Payload')),
        field,
      ).toHaveLength(1);
      expect(
        kinds.filter((k) => k === 'ConflictError'),
        field,
      ).toHaveLength(19);
    }
  });
});

describe('publishing', () => {
  const DRAFT_STATUS = graphql(`{ issue(slug: "draft-week") { status } }`);
  it('drafts: invisible to readers, visible to editors everywhere; publish is idempotent with one event', async () => {
    const created = await gql(
      app,
      graphql(
        `mutation { createIssue(input: { slug: "draft-week", title: "Draft", weekStart: "2025-06-02" }) { ... on CreateIssuePayload { issue { id status publishedAt } } } }`,
      ),
      undefined,
      editor,
    );
    const draft = member(created.body.data!.createIssue, 'issue');
    expect(draft).toMatchObject({ status: 'DRAFT', publishedAt: null });
    const added = await gql(
      app,
      graphql(
        `mutation($id: ID!) { addPaper(input: { issueId: $id, category: "llm-reasoning", title: "Draft paper" }) { ... on AddPaperPayload { paper { id number } } } }`,
      ),
      { id: draft.id },
      editor,
    );
    const paper = member(added.body.data!.addPaper, 'paper');
    expect(paper.number).toBe('1.1');
    const probe = graphql(`query($id: ID!, $pid: ID!) {
      issue(slug: "draft-week") { id } node(id: $id) { id } nodes(ids: [$id, $pid]) { id }
      issues(filter: { status: DRAFT }) { totalCount }
      paper(issue: "draft-week", number: "1.1") { id }
      category(slug: "llm-reasoning") { papers(first: 100) { totalCount } }
    }`);
    const anon = (await gql(app, probe, { id: draft.id, pid: paper.id })).body.data!;
    expect(anon).toEqual({
      issue: null,
      node: null,
      nodes: [null, null],
      issues: { totalCount: 0 },
      paper: null,
      category: { papers: { totalCount: 6 } },
    });
    const ed = (await gql(app, probe, { id: draft.id, pid: paper.id }, editor)).body.data!;
    expect(ed.issue!.id).toBe(draft.id);
    expect(ed.node!.id).toBe(draft.id);
    expect(ed.nodes).toEqual([{ id: draft.id }, { id: paper.id }]);
    expect(ed.issues.totalCount).toBe(1);
    expect(ed.paper!.id).toBe(paper.id);
    expect(ed.category!.papers.totalCount).toBe(7);

    const seen: number[] = [];
    const sub = events.subscribe('issuePublished');
    const reader = (async () => {
      for await (const e of sub) seen.push(e.issueId);
    })();
    const publish = () =>
      gql(
        app,
        graphql(
          `mutation($id: ID!) { publishIssue(input: { id: $id }) { ... on PublishIssuePayload { issue { status publishedAt } } } }`,
        ),
        { id: draft.id },
        editor,
      );
    const first = member((await publish()).body.data!.publishIssue, 'issue');
    const second = member((await publish()).body.data!.publishIssue, 'issue');
    expect(first.status).toBe('PUBLISHED');
    expect(second.publishedAt).toBe(first.publishedAt);
    await new Promise((r) => setTimeout(r, 50));
    await sub.return?.();
    await reader;
    expect(seen).toHaveLength(1);
    expect((await gql(app, DRAFT_STATUS)).body.data!.issue!.status).toBe('PUBLISHED');
    await gql(
      app,
      graphql(`mutation($id: ID!) { unpublishIssue(input: { id: $id }) { __typename } }`),
      { id: draft.id },
      editor,
    );
    expect((await gql(app, DRAFT_STATUS)).body.data!.issue).toBeNull();
  });
});

describe('editing the structure', () => {
  const layout = async () =>
    (
      await gql(
        app,
        graphql(`{ issue(slug: "2025-05-05") { sections { number category { slug } papers { number title } } } }`),
        undefined,
        editor,
      )
    ).body.data!.issue!.sections.map(
      (s) => `${s.number}:${s.category.slug}:${s.papers.map((p) => p.number).join(',')}`,
    );

  it('addPaper at a position renumbers the following papers; a new category adds a last section', async () => {
    const ids = await sampleIds();
    const r = await gql(
      app,
      graphql(
        `mutation($id: ID!) { addPaper(input: { issueId: $id, category: "llm-reasoning", title: "Inserted", position: 2 }) { ... on AddPaperPayload { paper { number } issue { paperCount } } } }`,
      ),
      { id: ids.issueId },
      editor,
    );
    expect(member(r.body.data!.addPaper, 'paper').number).toBe('2.2');
    expect(member(r.body.data!.addPaper, 'issue').paperCount).toBe(16);
    await gql(
      app,
      graphql(`mutation { createCategory(input: { slug: "ai-agents", name: "AI Agents" }) { __typename } }`),
      undefined,
      editor,
    );
    const r2 = await gql(
      app,
      graphql(
        `mutation($id: ID!) { addPaper(input: { issueId: $id, category: "ai-agents", title: "Agentic" }) { ... on AddPaperPayload { paper { number category { slug } } } } }`,
      ),
      { id: ids.issueId },
      editor,
    );
    expect(member(r2.body.data!.addPaper, 'paper')).toEqual({ number: '6.1', category: { slug: 'ai-agents' } });
    expect(await layout()).toEqual([
      '1:llm-progress-technical-reports:1.1,1.2,1.3',
      '2:llm-reasoning:2.1,2.2,2.3,2.4,2.5,2.6,2.7',
      '3:llm-training-fine-tuning:3.1,3.2,3.3',
      '4:vision-language-models:4.1,4.2',
      '5:llm-evaluation:5.1',
      '6:ai-agents:6.1',
    ]);
  });

  it('movePaper, deletePaper and reorderSections keep the numbering consistent', async () => {
    const ids = await sampleIds(); // paper 2.3
    const moved = await gql(
      app,
      graphql(
        `mutation($id: ID!) { movePaper(input: { id: $id, category: "llm-evaluation", position: 1 }) { ... on MovePaperPayload { paper { number title category { slug } } } } }`,
      ),
      { id: ids.paper.id },
      editor,
    );
    expect(member(moved.body.data!.movePaper, 'paper')).toMatchObject({
      number: '5.1',
      title: 'RM-R1: Reward Modeling as Reasoning',
      category: { slug: 'llm-evaluation' },
    });
    expect(await layout()).toEqual([
      '1:llm-progress-technical-reports:1.1,1.2,1.3',
      '2:llm-reasoning:2.1,2.2,2.3,2.4,2.5',
      '3:llm-training-fine-tuning:3.1,3.2,3.3',
      '4:vision-language-models:4.1,4.2',
      '5:llm-evaluation:5.1,5.2',
    ]);
    // moving the only paper out of a section removes the section and renumbers the rest
    const vlm = (await gql(app, graphql(`{ paper(issue: "2025-05-05", number: "4.1") { id } }`))).body.data!.paper!.id;
    const vlm2 = (await gql(app, graphql(`{ paper(issue: "2025-05-05", number: "4.2") { id } }`))).body.data!.paper!.id;
    await gql(
      app,
      graphql(`mutation($id: ID!) { deletePaper(input: { id: $id }) { __typename } }`),
      { id: vlm },
      editor,
    );
    const del = await gql(
      app,
      graphql(
        `mutation($id: ID!) { deletePaper(input: { id: $id }) { ... on DeletePaperPayload { deletedPaperId issue { sections { number } } } } }`,
      ),
      { id: vlm2 },
      editor,
    );
    expect(member(del.body.data!.deletePaper, 'deletedPaperId')).toBe(vlm2);
    expect(await layout()).toEqual([
      '1:llm-progress-technical-reports:1.1,1.2,1.3',
      '2:llm-reasoning:2.1,2.2,2.3,2.4,2.5',
      '3:llm-training-fine-tuning:3.1,3.2,3.3',
      '4:llm-evaluation:4.1,4.2',
    ]);
    const order = ['llm-evaluation', 'llm-reasoning', 'llm-progress-technical-reports', 'llm-training-fine-tuning'];
    await gql(
      app,
      graphql(
        `mutation($id: ID!, $c: [String!]!) { reorderSections(input: { issueId: $id, categories: $c }) { __typename } }`,
      ),
      { id: ids.issueId, c: order },
      editor,
    );
    expect(await layout()).toEqual([
      '1:llm-evaluation:1.1,1.2',
      '2:llm-reasoning:2.1,2.2,2.3,2.4,2.5',
      '3:llm-progress-technical-reports:3.1,3.2,3.3',
      '4:llm-training-fine-tuning:4.1,4.2,4.3',
    ]);
    // inside one section: the paper lands exactly at the asked position
    const p21 = (await gql(app, graphql(`{ paper(issue: "2025-05-05", number: "2.1") { id title } }`))).body.data!
      .paper!;
    await gql(
      app,
      graphql(`mutation($id: ID!) { movePaper(input: { id: $id, position: 4 }) { __typename } }`),
      { id: p21.id },
      editor,
    );
    expect(
      (await gql(app, graphql(`{ paper(issue: "2025-05-05", number: "2.4") { title } }`))).body.data!.paper!.title,
    ).toBe(p21.title);
    // the export still round-trips after all that
    const md = (await gql(app, graphql(`{ issue(slug: "2025-05-05") { markdown } }`), undefined, editor)).body.data!
      .issue!.markdown;
    expect(md).toMatch(/^## 1\. LLM Evaluation$/m);
  });

  it('mergeCategories moves every paper and keeps the old slug resolving; updateCategory keeps old slugs too', async () => {
    const ids = await sampleIds();
    const cat = (slug: string) => ids.categoryIds[ids.categorySlugs.indexOf(slug)]!;
    const res = await gql(
      app,
      graphql(
        `mutation($s: ID!, $t: ID!) { mergeCategories(input: { sourceId: $s, targetId: $t }) { ... on MergeCategoriesPayload { category { slug paperCount } } } }`,
      ),
      { s: cat('vision-language-models'), t: cat('llm-evaluation') },
      editor,
    );
    expect(member(res.body.data!.mergeCategories, 'category')).toEqual({ slug: 'llm-evaluation', paperCount: 3 });
    expect(await layout()).toEqual([
      '1:llm-progress-technical-reports:1.1,1.2,1.3',
      '2:llm-reasoning:2.1,2.2,2.3,2.4,2.5,2.6',
      '3:llm-training-fine-tuning:3.1,3.2,3.3',
      '4:llm-evaluation:4.1,4.2,4.3',
    ]);
    const old = await gql(app, graphql(`{ category(slug: "vision-language-models") { slug } categories { slug } }`));
    expect(old.body.data!.category!.slug).toBe('llm-evaluation');
    expect(old.body.data!.categories).toHaveLength(4);
    await gql(
      app,
      graphql(
        `mutation($id: ID!) { updateCategory(input: { id: $id, slug: "evaluation", name: "Evaluation" }) { __typename } }`,
      ),
      { id: cat('llm-evaluation') },
      editor,
    );
    const renamed = await gql(
      app,
      graphql(
        `{ a: category(slug: "llm-evaluation") { slug name } b: category(slug: "vision-language-models") { slug } }`,
      ),
    );
    expect(renamed.body.data).toEqual({ a: { slug: 'evaluation', name: 'Evaluation' }, b: { slug: 'evaluation' } });
    const clash = await gql(
      app,
      graphql(`mutation { createCategory(input: { slug: "vision-language-models", name: "Again" }) { __typename } }`),
      undefined,
      editor,
    );
    expect(clash.body.data!.createCategory.__typename).toBe('ConflictError');
  });

  it('missing objects are NotFoundError', async () => {
    const res = await gql(
      app,
      graphql(`mutation($id: ID!) { deleteIssue(input: { id: $id }) { __typename ... on NotFoundError { message } } }`),
      { id: encodeGlobalId('Issue', 99999) },
      editor,
    );
    expect(res.body.data!.deleteIssue.__typename).toBe('NotFoundError');
  });
});
