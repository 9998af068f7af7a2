import { type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { type GraphQLResponse, errorCode, gql } from './helpers/http.js';
import { graphql } from './graphql.js';
import { selectsPageInfo } from '../src/graphql/lookahead.js';
import { paperCursor, windowFromArgs } from '../src/graphql/pagination.js';

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

type Page = {
  edges: Array<{ cursor: string; node: { id: string; key: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
};
/** The page arguments of a walk: first/after forward, last/before backward (the others are left out). */
type PageArgs = { first?: number; after?: string | null; last?: number; before?: string | null };

/** Walks a connection to its end with first/after or last/before, returning node ids in list order. */
async function walk<T>(
  fetchPage: (args: PageArgs) => Promise<GraphQLResponse<T>>,
  pick: (data: T) => Page,
  size: number,
  backward: boolean,
): Promise<{ ids: string[]; pages: number; totalCount: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  let totalCount = -1;
  for (;;) {
    const args: PageArgs = backward ? { last: size, before: cursor } : { first: size, after: cursor };
    const res = await fetchPage(args);
    expect(res.body.errors).toBeUndefined();
    const page = pick(res.body.data!);
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

const PaperPage = graphql(`
  fragment PaperPage on PaperConnection {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id key: number } }
  }
`);

describe('keyset pagination', () => {
  it('Query.papers: forward and backward walks give every paper once, in the same order', async () => {
    const PAPERS = graphql(
      `query PapersWalk($first: Int, $after: String, $last: Int, $before: String) {
        papers(first: $first, after: $after, last: $last, before: $before) { ...PaperPage }
      }`,
      [PaperPage],
    );
    const page = (args: PageArgs) => gql(app, PAPERS, args);
    const fwd = await walk(page, (d) => d.papers, 7, false);
    const bwd = await walk(page, (d) => d.papers, 11, true);
    expect(fwd.totalCount).toBe(ISSUES * PER_ISSUE);
    expect(fwd.ids).toHaveLength(ISSUES * PER_ISSUE);
    expect(new Set(fwd.ids).size).toBe(ISSUES * PER_ISSUE);
    expect(bwd.ids).toEqual(fwd.ids);
    expect(fwd.pages).toBe(Math.ceil(300 / 7));
  });

  it('Query.papers: newest edition first, numbers ascending inside an edition; ASC reverses the editions only', async () => {
    const q = (dir: 'ASC' | 'DESC') =>
      gql(
        app,
        graphql(
          `query PapersByWeek($dir: OrderDirection!) { papers(first: 25, orderBy: { field: WEEK, direction: $dir }) { nodes { number issue { weekStart } } } }`,
        ),
        { dir },
      );
    const desc = (await q('DESC')).body.data!.papers.nodes;
    const asc = (await q('ASC')).body.data!.papers.nodes;
    const weeksDesc = desc.map((n) => n.issue.weekStart);
    expect(weeksDesc).toEqual([...weeksDesc].sort().reverse());
    const weeksAsc = asc.map((n) => n.issue.weekStart);
    expect(weeksAsc).toEqual([...weeksAsc].sort());
    const firstWeek = desc.filter((n) => n.issue.weekStart === weeksDesc[0]).map((n) => n.number);
    expect(firstWeek).toEqual([...firstWeek].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    expect(asc[0]!.number).toBe('1.1');
  });

  it('Query.issues: forward/backward in both orders', async () => {
    const ISSUES_WALK = graphql(
      `query IssuesWalk($first: Int, $after: String, $last: Int, $before: String, $direction: OrderDirection!) {
        issues(first: $first, after: $after, last: $last, before: $before, orderBy: { field: WEEK_START, direction: $direction }) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id key: weekStart } } }
      }`,
    );
    for (const direction of ['DESC', 'ASC'] as const) {
      const page = (args: PageArgs) => gql(app, ISSUES_WALK, { ...args, direction });
      const fwd = await walk(page, (d) => d.issues, 4, false);
      const bwd = await walk(page, (d) => d.issues, 6, true);
      expect(fwd.ids).toHaveLength(ISSUES);
      expect(new Set(fwd.ids).size).toBe(ISSUES);
      expect(bwd.ids).toEqual(fwd.ids);
      expect(fwd.totalCount).toBe(ISSUES);
    }
  }, 60_000);

  it('Category.papers pages through one category without duplicates or gaps', async () => {
    const cats = await gql(app, graphql(`query CategoryCounts { categories { slug paperCount } }`));
    const cat = cats.body.data!.categories[0]!;
    const CATEGORY_WALK = graphql(
      `query CategoryWalk($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
        category(slug: $slug) { papers(first: $first, after: $after, last: $last, before: $before) { ...PaperPage } }
      }`,
      [PaperPage],
    );
    const page = (args: PageArgs) => gql(app, CATEGORY_WALK, { ...args, slug: cat.slug });
    const fwd = await walk(page, (d) => d.category!.papers, 9, false);
    const bwd = await walk(page, (d) => d.category!.papers, 5, true);
    expect(fwd.ids).toHaveLength(cat.paperCount);
    expect(new Set(fwd.ids).size).toBe(cat.paperCount);
    expect(bwd.ids).toEqual(fwd.ids);
    const FILTERED_WALK = graphql(
      `query FilteredWalk($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
        papers(first: $first, after: $after, last: $last, before: $before, filter: { categories: [$slug] }) { ...PaperPage }
      }`,
      [PaperPage],
    );
    const all = await walk(
      (args) => gql(app, FILTERED_WALK, { ...args, slug: cat.slug }),
      (d) => d.papers,
      100,
      false,
    );
    expect(all.ids).toEqual(fwd.ids);
  });

  it('Issue.papers pages through one edition', async () => {
    const LATEST_WALK = graphql(
      `query LatestWalk($first: Int, $after: String, $last: Int, $before: String) {
        latestIssue { papers(first: $first, after: $after, last: $last, before: $before) { ...PaperPage } }
      }`,
      [PaperPage],
    );
    const page = (args: PageArgs) => gql(app, LATEST_WALK, args);
    const fwd = await walk(page, (d) => d.latestIssue!.papers, 3, false);
    const bwd = await walk(page, (d) => d.latestIssue!.papers, 4, true);
    expect(fwd.ids).toHaveLength(PER_ISSUE);
    expect(bwd.ids).toEqual(fwd.ids);
  });

  it('filters: issue slug, week range, several categories', async () => {
    const issues = await gql(app, graphql(`query ThreeIssues { issues(first: 3) { nodes { slug weekStart } } }`));
    const nodes = issues.body.data!.issues.nodes;
    const newest = nodes[0]!;
    const third = nodes[2]!;
    const byIssue = await gql(
      app,
      graphql(
        `query ByIssue($s: String) { papers(first: 100, filter: { issue: $s }) { totalCount nodes { issue { slug } } } }`,
      ),
      {
        s: newest.slug,
      },
    );
    expect(byIssue.body.data!.papers.totalCount).toBe(PER_ISSUE);
    expect(byIssue.body.data!.papers.nodes.every((n) => n.issue.slug === newest.slug)).toBe(true);
    const range = await gql(
      app,
      graphql(
        `query ByWeeks($f: Date, $t: Date) { papers(first: 100, filter: { weekFrom: $f, weekTo: $t }) { totalCount } issues(filter: { weekFrom: $f, weekTo: $t }) { totalCount nodes { weekStart } } }`,
      ),
      { f: third.weekStart, t: newest.weekStart },
    );
    expect(range.body.data!.papers.totalCount).toBe(3 * PER_ISSUE);
    expect(range.body.data!.issues.totalCount).toBe(3);
    const cats = (await gql(app, graphql(`query CategoryCounts { categories { slug paperCount } }`))).body.data!
      .categories;
    const [first, second] = cats.slice(0, 2) as [(typeof cats)[number], (typeof cats)[number]];
    const multi = await gql(
      app,
      graphql(`query ByCategories($c: [String!]) { papers(filter: { categories: $c }) { totalCount } }`),
      { c: [first.slug, second.slug] },
    );
    expect(multi.body.data!.papers.totalCount).toBe(first.paperCount + second.paperCount);
    const none = await gql(
      app,
      graphql(`query NoCategory { papers(filter: { categories: ["no-such-category"] }) { totalCount nodes { id } } }`),
    );
    expect(none.body.data!.papers).toEqual({ totalCount: 0, nodes: [] });
  });

  it('page sizes must be 1 to 100: a clear error, not a silent clamp', async () => {
    // Literal arguments out of range, built per case: deliberately refused documents, only their errors are read.
    for (const arg of ['first: 0', 'first: 101', 'first: -1', 'last: 101', 'last: 0', 'first: 2, last: 2']) {
      const res = await gql<{ papers: { totalCount: number } }>(app, `{ papers(${arg}) { totalCount } }`);
      expect(errorCode(res), arg).toBe('BAD_USER_INPUT');
      expect(res.body.errors![0]!.message).toMatch(/first|last/);
    }
    const nested = await gql(app, graphql(`query NestedTooLong { categories { papers(first: 500) { totalCount } } }`));
    expect(errorCode(nested)).toBe('BAD_USER_INPUT');
    const ok = await gql(app, graphql(`query FullPage { papers(first: 100) { edges { cursor } } }`));
    expect(ok.body.data!.papers.edges).toHaveLength(100);
  });

  it('malformed cursors are BAD_USER_INPUT errors; cursors of another connection too', async () => {
    const issueCursor = (await gql(app, graphql(`query IssueCursor { issues(first: 1) { pageInfo { endCursor } } }`)))
      .body.data!.issues.pageInfo.endCursor!;
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
      const res = await gql(
        app,
        graphql(`query PapersAfter($a: String) { papers(first: 2, after: $a) { totalCount } }`),
        { a: after },
      );
      expect(errorCode(res), after.slice(0, 30)).toBe('BAD_USER_INPUT');
    }
    const res = await gql(
      app,
      graphql(`query IssuesBefore($b: String) { issues(last: 2, before: $b) { totalCount } }`),
      { b: 'zzz' },
    );
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
  });

  it('a cursor stays valid as a position: paging after the last item gives an empty page', async () => {
    const last = await gql(app, graphql(`query LastCursor { papers(last: 1) { pageInfo { endCursor } } }`));
    const cursor = last.body.data!.papers.pageInfo.endCursor;
    const after = await gql(
      app,
      graphql(
        `query AfterLast($c: String) { papers(first: 5, after: $c) { edges { cursor } pageInfo { hasNextPage hasPreviousPage } } }`,
      ),
      { c: cursor },
    );
    expect(after.body.data!.papers.edges).toEqual([]);
    expect(after.body.data!.papers.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });
});

// Pages are aggregated without an ORDER BY of their own (papers.ts): the order PostgreSQL gives is
// checked, and restored when needed, by the same comparison as the SQL order of every walk.
describe('the archive order in JavaScript', () => {
  it('sorts papers as archiveOrderSql does, for every walk', async () => {
    const { walkComparator, restoreOrder, PAPER_COLUMNS, toPaper } = await import('../src/db/queries/papers.js');
    const { archiveOrderSql } = await import('../src/db/queries/fragments.js');
    const { selectRows } = await import('../src/db/queries/util.js');
    const { sql } = await import('../src/db/orm.js');
    for (const outerDesc of [true, false]) {
      for (const innerDesc of [true, false]) {
        const walk = { outerDesc, innerDesc };
        const rows = (
          await selectRows<Record<string, unknown>>(
            tdb.db,
            sql`SELECT ${PAPER_COLUMNS} FROM papers p ORDER BY ${archiveOrderSql(walk)}`,
          )
        ).map(toPaper);
        expect(rows).toHaveLength(ISSUES * PER_ISSUE);
        // A deterministic shuffle (a stride through the list), then sorted back.
        const shuffled = rows.map((r, k) => ({ r, k: (k * 7919) % rows.length })).sort((a, b) => a.k - b.k);
        expect(shuffled.map((s) => s.r.id)).not.toEqual(rows.map((r) => r.id));
        const sorted = shuffled.map((s) => s.r).sort(walkComparator(walk));
        expect(sorted.map((r) => r.id)).toEqual(rows.map((r) => r.id));
        // A page after others is restored in place, the papers before it untouched.
        const head = rows.slice(0, 5);
        const list = [...head, ...shuffled.slice(0, 20).map((s) => s.r)];
        const page = [...list.slice(5)].sort(walkComparator(walk)).map((r) => r.id);
        restoreOrder(list, 5, walkComparator(walk));
        expect(list.map((r) => r.id)).toEqual([...head.map((r) => r.id), ...page]);
        // An ordered list is left as it is.
        const ordered = [...rows];
        restoreOrder(ordered, 0, walkComparator(walk));
        expect(ordered.every((r, k) => r === rows[k])).toBe(true);
      }
    }
  });
});

describe('pages without pageInfo read no row past their end', () => {
  it('selectsPageInfo finds pageInfo directly, in fragments and inline fragments, and only there', () => {
    const infoOf = (text: string) => {
      const doc = parse(text);
      const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
      const fragments = Object.fromEntries(
        doc.definitions
          .filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition')
          .map((d) => [d.name.value, d]),
      );
      const field = op.selectionSet.selections[0] as FieldNode;
      return { fieldNodes: [field], fragments };
    };
    expect(selectsPageInfo(infoOf('{ papers(first: 2) { nodes { id } } }'))).toBe(false);
    expect(selectsPageInfo(infoOf('{ papers(first: 2) { edges { cursor node { id } } } }'))).toBe(false);
    expect(selectsPageInfo(infoOf('{ papers(first: 2) { pageInfo { hasNextPage } } }'))).toBe(true);
    expect(
      selectsPageInfo(infoOf('{ papers(first: 2) { ...P } } fragment P on PaperConnection { pageInfo { endCursor } }')),
    ).toBe(true);
    expect(
      selectsPageInfo(infoOf('{ papers(first: 2) { ... on PaperConnection { pageInfo { hasNextPage } } } }')),
    ).toBe(true);
    const args = { first: 5 };
    expect(windowFromArgs(args, 'DESC', paperCursor).limit).toBe(6);
    expect(windowFromArgs(args, 'DESC', paperCursor, false).limit).toBe(5);
  });

  const NODES_ONLY = graphql(`
    query NodesOnly($first: Int!) {
      papers(first: $first) { nodes { id } }
      issues(first: $first) { nodes { id } }
      categories { papers(first: $first) { nodes { id } } }
    }
  `);
  const WITH_PAGE_INFO = graphql(`
    query WithPageInfo($first: Int!) {
      papers(first: $first) { nodes { id } pageInfo { hasNextPage } }
      issues(first: $first) { nodes { id } pageInfo { hasNextPage } }
      categories { papers(first: $first) { nodes { id } pageInfo { hasNextPage } } }
    }
  `);
  it('the same nodes with or without pageInfo; hasNextPage still exact at the end of a list', async () => {
    for (const first of [1, 7, 30, 100]) {
      const bare = (await gql(app, NODES_ONLY, { first })).body;
      const full = (await gql(app, WITH_PAGE_INFO, { first })).body;
      expect(bare.errors).toBeUndefined();
      expect(full.errors).toBeUndefined();
      const a = bare.data!;
      const b = full.data!;
      expect(a.papers.nodes).toEqual(b.papers.nodes);
      expect(a.issues.nodes).toEqual(b.issues.nodes);
      expect(a.categories.map((c) => c.papers.nodes)).toEqual(b.categories.map((c) => c.papers.nodes));
      expect(b.papers.nodes).toHaveLength(first);
      // 30 editions: a page of 30 or more holds them all, and says there is no next one
      expect(b.issues.pageInfo.hasNextPage).toBe(first < ISSUES);
      expect(b.papers.pageInfo.hasNextPage).toBe(true);
    }
  });
});
