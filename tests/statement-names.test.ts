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
