import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { createDb, migrationsFolder } from '../../src/db/client.js';
import { pgliteVersion } from '../../src/db/pglite-template.js';

/**
 * A migrated, empty PGlite cluster as a dump, made once per test run (vitest's
 * globalSetup) and loaded by every test file: loading it takes about a sixth
 * of creating a cluster and applying the migrations. Keyed by the migrations
 * and the PGlite version, so a changed migration never loads an old one.
 */
export function snapshotPath(): string {
  const hash = createHash('sha256');
  hash.update(pgliteVersion());
  for (const m of readMigrationFiles({ migrationsFolder: migrationsFolder() })) hash.update(m.hash);
  return path.join(tmpdir(), `llmp-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`);
}

/** Makes the snapshot unless it is there (written under a temporary name, then renamed: never half a file). */
export async function ensureSnapshot(): Promise<string> {
  const file = snapshotPath();
  if (existsSync(file)) return file;
  const handle = await createDb();
  try {
    await handle.migrate();
    const dump = await handle.pglite!.dumpDataDir('none');
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.from(await dump.arrayBuffer()));
    renameSync(temp, file);
  } finally {
    await handle.close();
  }
  return file;
}

/** The snapshot as PGlite loads it; null when it is missing (then a test database is made from scratch). */
export function loadSnapshot(): Blob | null {
  const file = snapshotPath();
  return existsSync(file) ? new Blob([readFileSync(file)]) : null;
}
