/**
 * DB_PREPARED_STATEMENTS=off, for a pooler in transaction mode (PgBouncer 1.18): the same reads, and not one
 * named statement left on the server connection. The pooler itself is in `npm run test:scale`; WAL positions
 * (x-read-after) are parsed here.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { createDb, type DbHandle } from '../src/db/client.js';
import { isLsn, lsnValue } from '../src/db/replicas.js';
import { selectRows } from '../src/db/queries/util.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createThrowawayDatabase } from './helpers/db.js';
import { gql } from './helpers/http.js';

const QUERIES = [
  '{ latestIssue { title sections { number category { name } papers { number title } } } }',
  '{ issues(first: 3) { nodes { slug paperCount } } }',
  '{ categories { slug papers(first: 2) { nodes { title } } } }',
  '{ searchPapers(query: "reasoning", first: 3) { edges { node { title } } } }',
];

describe.runIf(process.env.DATABASE_URL)('DB_PREPARED_STATEMENTS=off', () => {
  let named: DbHandle;
  let unnamed: DbHandle;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createThrowawayDatabase(process.env.DATABASE_URL!);
    drop = db.drop;
    named = await createDb({ url: db.url, poolMax: 1 });
    await named.migrate();
    await seedSample(named.db);
    unnamed = await createDb({ url: db.url, poolMax: 1, preparedStatements: false });
  });
  afterAll(async () => {
    await named?.close();
    await unnamed?.close();
    await drop?.();
  });

  const preparedOnConnection = async (db: DbHandle) =>
    Number((await selectRows<{ n: number }>(db.db, sql`SELECT count(*)::int AS n FROM pg_prepared_statements`))[0]!.n);

  it('answers the same, leaving no named statement on the connection', async () => {
    const a = createApp({ db: named.db });
    const b = createApp({ db: unnamed.db });
    for (const q of QUERIES) {
      const [x, y] = [await gql(a, q), await gql(b, q)];
      expect(y.body.errors, q).toBeUndefined();
      expect(y.body.data, q).toEqual(x.body.data);
    }
    expect(await preparedOnConnection(named)).toBeGreaterThan(0);
    expect(await preparedOnConnection(unnamed)).toBe(0);
  });
});

describe('WAL positions (x-read-after)', () => {
  it('are read as numbers, in order; anything else is not one', () => {
    expect(lsnValue('0/16B3748')).toBe(0x16b3748n);
    expect(lsnValue('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
    expect(lsnValue('1/0') > lsnValue('0/FFFFFFFF')).toBe(true);
    for (const bad of ['', '0', '0/', '/1', 'G/1', '0/123456789', "0/1'; --", '0/1 '])
      expect(isLsn(bad), bad).toBe(false);
    expect(isLsn('AB/CDEF0123')).toBe(true);
  });
});
