import { describe, expect, it } from 'vitest';
import { serverName } from '../src/db/queries/util.js';

// PostgreSQL keeps 63 bytes of an identifier: longer statement names sharing a prefix would collide
// (and a connection would run one statement's text for another).
describe('prepared statement names', () => {
  it('short names are sent as they are', () => {
    expect(serverName('paper_by_id_v2')).toBe('paper_by_id_v2');
    expect(serverName('x'.repeat(63))).toBe('x'.repeat(63));
  });

  it('long names fit in 63 bytes and stay distinct, also when only their ends differ', () => {
    const base = `category_listing_v3_i${'10'.repeat(20)}_cursor`;
    const names = ['_from', '_to', '_from_drafts', 'é'.repeat(10)].map((end) => serverName(base + end));
    for (const n of names) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
    expect(new Set(names).size).toBe(names.length);
    expect(serverName(base + '_from')).toBe(serverName(base + '_from'));
  });
});

// Column sets name statements too: derived from the read models, one bit per lookahead group.
describe('column-set keys', () => {
  it('a bit per group of the paper read model, distinct for distinct sets', async () => {
    const { ALL_PAPER_COLUMNS, PAPER, columnsKey } = await import('../src/db/read-model/paper.js');
    expect(columnsKey(ALL_PAPER_COLUMNS)).toBe('1'.repeat(PAPER.groups.length));
    expect(columnsKey(PAPER.setFor(new Set(['title', 'updatedAt'])))).toBe(
      PAPER.groups.map((g) => (g === 'title' || g === 'times' ? '1' : '0')).join(''),
    );
    const keys = new Set(PAPER.groups.map((g) => columnsKey(PAPER.setOf([g]))));
    expect(keys.size).toBe(PAPER.groups.length);
  });

  it('edition modes: empty for none, `full_`, else a bit per field', async () => {
    const { ISSUE_FIELDS, issueModeKey } = await import('../src/db/read-model/issue.js');
    expect(issueModeKey('none')).toBe('');
    expect(issueModeKey('full')).toBe('full_');
    expect(issueModeKey(['title'])).toBe(`i${ISSUE_FIELDS.map((f) => (f === 'title' ? '1' : '0')).join('')}_`);
  });
});

// A bound LIMIT makes PostgreSQL plan the statement again at every execution (it cannot estimate it).
describe('page limits written into the statement', () => {
  it('the usual page sizes are literals whether the page peeks one row further (pageInfo) or not', async () => {
    const { literalLimit } = await import('../src/db/queries/fragments.js');
    const { paperCursor, windowFromArgs } = await import('../src/graphql/pagination.js');
    for (const first of [1, 5, 10, 20, 50, 100]) {
      for (const peek of [true, false]) {
        const { limit } = windowFromArgs({ first }, 'DESC', paperCursor, peek);
        expect(literalLimit(limit), `first: ${first}, peek: ${peek}`).toBe(limit);
      }
    }
    expect(literalLimit(37)).toBeNull();
  });
});
