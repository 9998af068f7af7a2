/**
 * Connections to PostgreSQL read ahead (effective_io_concurrency, src/db/client.ts): 16 on a server at the old
 * default of 1, as PostgreSQL 18 has it; a value the database was given is kept.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client.js';
import { createThrowawayDatabase } from './helpers/db.js';

const baseUrl = process.env.DATABASE_URL;
const drops: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const drop of drops) await drop();
});

/** A throwaway database whose own effective_io_concurrency is `value`. */
async function databaseWith(value: number): Promise<string> {
  const db = await createThrowawayDatabase(baseUrl!);
  drops.push(db.drop);
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${new URL(db.url).pathname.slice(1)} SET effective_io_concurrency = ${value}`);
  await admin.end();
  return db.url;
}

/** effective_io_concurrency on each of three connections of one pool, held at once. */
async function settingsOf(url: string): Promise<string[]> {
  const handle = await createDb({ url, poolMax: 3 });
  try {
    const clients = await Promise.all([0, 1, 2].map(() => handle.pool!.connect()));
    const values = await Promise.all(
      clients.map(async (c) => {
        // (two statements at once on a new connection: pg warns when a third waits, the setting's own included)
        const [shown] = await Promise.all([
          c.query<{ effective_io_concurrency: string }>('SHOW effective_io_concurrency'),
          c.query('SELECT 1'),
        ]);
        return shown.rows[0]!.effective_io_concurrency;
      }),
    );
    for (const c of clients) c.release();
    return values;
  } finally {
    await handle.close();
  }
}

describe.skipIf(!baseUrl)('read-ahead on PostgreSQL connections', () => {
  it('is 16 on every connection where the server has the old default', async () => {
    // (set before the connection's first statement, not queued beside it: pg 8 warns of that, pg 9 refuses it)
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(await settingsOf(await databaseWith(1))).toEqual(['16', '16', '16']);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
  });

  it('keeps what the database was given', async () => {
    expect(await settingsOf(await databaseWith(4))).toEqual(['4', '4', '4']);
  });
});
