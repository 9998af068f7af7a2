import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client.js';
import { selectRows } from '../../src/db/queries/util.js';
import { seedSample } from '../../src/fixtures/seed.js';
import { type TestDb, createTestDb, createThrowawayDatabase } from '../helpers/db.js';
import { repoRoot } from '../helpers/server.js';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb();
});
afterAll(async () => {
  await tdb?.destroy();
});

async function counts(db: TestDb['db']) {
  const [row] = await selectRows<Record<string, number>>(
    db,
    sql`SELECT (SELECT count(*)::int FROM issues) AS issues, (SELECT count(*)::int FROM sections) AS sections,
               (SELECT count(*)::int FROM papers) AS papers, (SELECT count(*)::int FROM categories) AS categories`,
  );
  return row;
}

describe('the sample edition', () => {
  it('loads 1 edition, 5 categories, 5 sections, 15 papers; a second run changes nothing', async () => {
    expect(await seedSample(tdb.db)).toBe(true);
    const first = await counts(tdb.db);
    expect(first).toEqual({ issues: 1, sections: 5, papers: 15, categories: 5 });
    expect(await seedSample(tdb.db)).toBe(false);
    expect(await counts(tdb.db)).toEqual(first);
  });

  it('`npm run db:seed` works on the configured database and is idempotent', async () => {
    const base = process.env.DATABASE_URL;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'seed-'));
    const throwaway = base ? await createThrowawayDatabase(base) : null;
    const env = { ...process.env, DATABASE_URL: throwaway?.url ?? '', DATA_DIR: dataDir };
    try {
      const run = () =>
        execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['src/cli/seed.ts'], {
          cwd: repoRoot,
          env,
          encoding: 'utf8',
          stdio: 'pipe',
        });
      run();
      run();
      const handle = await createDb({ url: throwaway?.url, dataDir: throwaway ? undefined : dataDir });
      try {
        expect(await counts(handle.db)).toEqual({ issues: 1, sections: 5, papers: 15, categories: 5 });
      } finally {
        await handle.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await throwaway?.drop();
    }
  }, 120_000);
});
