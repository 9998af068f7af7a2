import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { sql } from '../src/db/orm.js';
import { type SearchArgs, relatedPapersSql, searchFacetsSql, searchPageSql } from '../src/db/queries/search.js';
import { flattenSql, idValues } from '../src/db/queries/util.js';
import { parseSearchQuery } from '../src/search/query.js';

const dialect = new PgDialect();
const drizzles = (q: Parameters<PgDialect['sqlToQuery']>[0]) => {
  const { sql: text, params } = dialect.sqlToQuery(q);
  return { sql: text, params };
};

const TEXTS = [
  'reward model',
  '"chain of thought" faithfulness',
  'reasoning -reward',
  'RL',
  'Llama Nemotorn',
  'o\'brien\'s "test-time compute" or MoE',
  'when to think',
  'x',
];
const VARIANTS: Array<Partial<SearchArgs>> = [
  { order: 'RELEVANCE', mode: 'text', scope: 'all' },
  { order: 'RELEVANCE', mode: 'text', scope: 'title-all', headlines: false },
  { order: 'RELEVANCE', mode: 'text', scope: 'title', cursor: [3.25, 17] },
  { order: 'RELEVANCE', mode: 'text', scope: 'all', rankBound: ["'model'"], headlinesAbove: 4.25 },
  { order: 'RELEVANCE', mode: 'text', scope: 'title', rankBound: ["'reward'", "'it''s'"], headlinesAbove: 3.25 },
  { order: 'RELEVANCE', mode: 'text', window: { since: '2025-01-06', walk: true }, candidates: 50 },
  {
    order: 'RELEVANCE',
    mode: 'fuzzy',
    filter: { categorySlugs: ['llm-reasoning', 'ai-agents'], weekFrom: '2025-01-01' },
  },
  { order: 'NEWEST', mode: 'text', cursor: ['2025-02-03', 2, 1, 1] },
  { order: 'NEWEST', mode: 'text', few: true, filter: { issueSlug: '2025-05-12', weekTo: '2025-06-01' } },
  { order: 'NEWEST', mode: 'fuzzy' },
];

describe('flattenSql: the text and values Drizzle writes, without Drizzle', () => {
  it('every search statement, of every shape, reads the same as Drizzle writes it', () => {
    let compared = 0;
    for (const text of TEXTS) {
      const terms = parseSearchQuery(text);
      for (const variant of VARIANTS) {
        for (const vis of [{ drafts: false }, { drafts: true }]) {
          const args = { terms, cursor: null, limit: 21, order: 'RELEVANCE', mode: 'text', ...variant } as SearchArgs;
          const statements = [searchPageSql(args, vis), searchFacetsSql(args, vis)];
          for (const statement of statements) {
            const flat = flattenSql(statement);
            expect(flat).not.toBeNull();
            expect(flat).toEqual(drizzles(statement));
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(TEXTS.length * VARIANTS.length * 2 * 2);
  });

  it('values of every kind it writes, in order, with nested statements and raw text', () => {
    const statement = sql`SELECT ${'a'}::text, ${2}::int, ${true}::bool, ${sql.raw('now()')}, ${sql`(${1.5} + ${0})`} ${sql.join(
      [sql`${'x'}`, sql`${'y'}`],
      sql`, `,
    )}`;
    const flat = flattenSql(statement);
    expect(flat).toEqual(drizzles(statement));
    expect(flat).toEqual({
      sql: 'SELECT $1::text, $2::int, $3::bool, now(), ($4 + $5) $6, $7',
      params: ['a', 2, true, 1.5, 0, 'x', 'y'],
    });
  });

  it('identifiers, quoted as Drizzle quotes them', () => {
    for (const statement of [
      idValues([1, 2], 'ids'),
      relatedPapersSql([1, 2], 5, { drafts: false }),
      sql`SELECT 1 AS ${sql.identifier('a "quoted" name')}`,
    ]) {
      expect(flattenSql(statement)).not.toBeNull();
      expect(flattenSql(statement)).toEqual(drizzles(statement));
    }
  });

  it('anything else is left to Drizzle (null): placeholders, lists, null, inlined values', () => {
    expect(flattenSql(sql`SELECT ${sql.placeholder('p')}`)).toBeNull();
    expect(flattenSql(sql`SELECT ${[1, 2]}`)).toBeNull();
    expect(flattenSql(sql`SELECT ${null}`)).toBeNull();
    expect(flattenSql(sql`SELECT ${'a'}`.inlineParams())).toBeNull();
    expect(flattenSql(sql`SELECT ${sql`${'a'}`.inlineParams()}`)).toBeNull();
  });
});
