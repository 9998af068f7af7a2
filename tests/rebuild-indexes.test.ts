/**
 * bench:data rebuilds the papers' GIN indexes after loading a big archive (src/db/seed.ts, rebuildIndexes): each
 * build holds a connection for minutes at a million papers, so they run at most as many at a time as it is told,
 * never one more than the pool can hand out before its connection timeout (four builds on a pool of three failed
 * after loading a million papers).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client.js';
import { rebuildIndexes } from '../src/db/seed.js';

const baseUrl = process.env.DATABASE_URL;
const closers: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const close of closers) await close();
});

describe.skipIf(!baseUrl)('rebuildIndexes', () => {
  it('runs more builds than the pool has connections, each in its own transaction, at most `concurrency` at once', async () => {
    // A pool of two whose connection timeout is shorter than one "build" (a statement that sleeps 0.4 s).
    const handle = await createDb({ url: baseUrl!, poolMax: 2, connectTimeoutMs: 200 });
    closers.push(() => handle.close());
    const build = 'SELECT pg_sleep(0.4)';
    let most = 0;
    const watcher = setInterval(() => {
      const p = handle.pool!;
      most = Math.max(most, p.totalCount - p.idleCount);
    }, 20);
    try {
      await rebuildIndexes(handle.db, [build, build, build, build], 2);
    } finally {
      clearInterval(watcher);
    }
    expect(most).toBe(2);
  });

  it('fails as the pool does when told to run more at once than it has connections (what the bound prevents)', async () => {
    const handle = await createDb({ url: baseUrl!, poolMax: 2, connectTimeoutMs: 200 });
    closers.push(() => handle.close());
    await expect(
      rebuildIndexes(handle.db, ['SELECT pg_sleep(0.4)', 'SELECT pg_sleep(0.4)', 'SELECT pg_sleep(0.4)'], 3),
    ).rejects.toThrow(/timeout/);
  });
});
