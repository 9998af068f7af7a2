import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { type App, createApp } from '../src/app.js';
import { queryCost } from '../src/graphql/cost.js';
import { schema } from '../src/graphql/schema.js';
import { type ListBounds, createListBounds } from '../src/graphql/list-bounds.js';
import { importIssueText } from '../src/editorial/import.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { costOf, gql } from './helpers/http.js';
import { graphql } from './graphql.js';

// A cost is an upper bound of what a query returns, also when the archive holds more than the
// usual sizes of plain lists (8 sections per edition, 8 papers per section, 20 categories).

let tdb: TestDb;
let app: App;
let bounds: ListBounds;
let editor: Record<string, string>;

/** An edition of `sections` sections with `papers` papers each, in the plain-text format. */
function bigIssue(sections: number, papers: number): string {
  const lines = ['Important LLM Papers for the Week From 06/01 to 12/01/2031', 'A big edition', 'Intro.'];
  for (let s = 1; s <= sections; s++) {
    lines.push(`${s}. Topic ${s}`);
    for (let p = 1; p <= papers; p++) lines.push(`${s}.${p}. Paper ${s}-${p}: A Title`, `Summary of ${s}.${p}.`);
  }
  return `${lines.join('\n')}\n`;
}

const LATEST_SECTIONS = graphql(`{ latestIssue { sections { papers { title } } } }`);
const CATEGORY_NAMES = graphql(`{ categories { name } }`);
const CREATE_CATEGORY = graphql(
  `mutation($name: String!, $slug: String!) { createCategory(input: { name: $name, slug: $slug }) { __typename } }`,
);

beforeAll(async () => {
  tdb = await createTestDb();
  bounds = createListBounds(tdb.db);
  app = createApp({ db: tdb.db, listBounds: bounds });
  editor = await authHeader(tdb.db);
});
afterAll(async () => {
  await tdb?.destroy();
});

describe('plain lists are costed at what the data holds', () => {
  it('an edition of 12 sections × 11 papers written outside the API (then announced)', async () => {
    await importIssueText(tdb.db, bigIssue(12, 11), { format: 'text', publish: true });
    await bounds.refresh(); // what the server's change signal does for a write from elsewhere
    const res = (await gql(app, LATEST_SECTIONS)).body;
    expect(res.errors).toBeUndefined();
    expect(res.data?.latestIssue?.sections.flatMap((s) => s.papers)).toHaveLength(132);
    const cost = costOf(res)!;
    expect(cost.actual).toBeLessThanOrEqual(cost.requested);
    expect(cost.requested).toBeGreaterThanOrEqual(1 + 12 + 132);
  });

  it('30 categories made through the API: the next query is costed for them', async () => {
    for (let i = 0; i < 30; i++) {
      const made = (await gql(app, CREATE_CATEGORY, { name: `Extra ${i}`, slug: `extra-${i}` }, editor)).body;
      expect(made.data?.createCategory.__typename).toBe('CreateCategoryPayload');
    }
    const res = (await gql(app, CATEGORY_NAMES)).body;
    expect(res.data?.categories.length).toBeGreaterThan(30);
    const cost = costOf(res)!;
    expect(cost.actual).toBeLessThanOrEqual(cost.requested);
  });

  it('a size below the usual estimate leaves the cost as it was (small archives are costed as before)', () => {
    const doc = parse('{ categories { name } }');
    expect(queryCost(schema, doc, null, {}, { 'Query.categories': 3 })).toBe(queryCost(schema, doc, null, {}));
    expect(queryCost(schema, doc, null, {}, { 'Query.categories': 50 })).toBe(50);
  });
});
