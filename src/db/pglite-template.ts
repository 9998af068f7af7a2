import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { extract } from 'tar';

/*
 * The empty PGlite cluster that a new embedded database starts from. PGlite's initdb takes 4.5–5.5 s on this
 * machine, most of a first start; extracting the cluster initdb made from a file takes 0.7–0.9 s. So the
 * cluster is made once per installation (`npm install`'s postinstall step, scripts/pglite-template.mjs, which
 * computes the same file name) rather than once per database. It holds only what initdb leaves (the migrations
 * still run on it) and is keyed by PGlite's version; without it a new database runs initdb as before.
 */

const require = createRequire(import.meta.url);

/** The installed PGlite's directory (its package.json is not exported: found from the entry point). */
function pgliteDir(): string {
  let dir = path.dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export function pgliteVersion(): string {
  return JSON.parse(readFileSync(path.join(pgliteDir(), 'package.json'), 'utf8')).version;
}

/** node_modules/.cache/llm-papers/pglite-cluster-<version>.tar.gz, in the node_modules that holds PGlite. */
export function pgliteTemplateFile(): string {
  let dir = pgliteDir();
  while (path.basename(dir) !== 'node_modules') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('@electric-sql/pglite is not inside a node_modules directory');
    dir = up;
  }
  return path.join(dir, '.cache', 'llm-papers', `pglite-cluster-${pgliteVersion()}.tar.gz`);
}

/** The template file is not a gzipped tar of a PostgreSQL cluster (cut short, not gzip, another archive). */
export class DamagedTemplateError extends Error {
  override name = 'DamagedTemplateError';
}

/** An operating system's error (EACCES, ENOSPC, EROFS…): about the disk or a directory, not the archive's content. */
const isSystemError = (err: unknown) => /^E[A-Z]+$/.test(String((err as { code?: unknown })?.code));

/**
 * Extracts the template into `dir` (made if missing), which then opens as an existing cluster; false when there is
 * no template. Throws DamagedTemplateError when the file is not a gzipped tar of a cluster, and the system's error
 * when the file cannot be read or `dir` written (nothing is then moved into `dir`).
 * Extracted here rather than by PGlite (its `loadDataDir`): PGlite keeps the archive it was given for the life of
 * the database (~40 MB), and given a damaged one fails from a stream whose error nothing catches (the process exits).
 */
export async function extractPgliteTemplate(file: string, dir: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  const staging = path.join(dir, '.template');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    try {
      // strict: a damaged archive is an error, not a warning; strip: the archive's top directory (PGlite's `pgdata`)
      await extract({ file, cwd: staging, strip: 1, strict: true });
    } catch (err) {
      throw isSystemError(err) ? err : new DamagedTemplateError((err as Error).message, { cause: err });
    }
    if (!existsSync(path.join(staging, 'PG_VERSION')))
      throw new DamagedTemplateError('not an archive of a PostgreSQL cluster');
    // Moved into place with PG_VERSION last: PGlite takes a directory holding it for a whole cluster, so a first start
    // cut short here leaves a directory that the next start treats as new (and whose leftovers it replaces).
    for (const entry of readdirSync(staging)) {
      if (entry === 'PG_VERSION') continue;
      rmSync(path.join(dir, entry), { recursive: true, force: true });
      renameSync(path.join(staging, entry), path.join(dir, entry));
    }
    renameSync(path.join(staging, 'PG_VERSION'), path.join(dir, 'PG_VERSION'));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return true;
}
