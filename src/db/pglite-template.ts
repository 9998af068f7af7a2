import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/*
 * The empty PGlite cluster that a new embedded database starts from. PGlite's initdb takes 4.5–5.5 s on this
 * machine, most of a first start; PGlite extracting the cluster initdb made from a file takes about 1 s. So the
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

/**
 * The template as PGlite's `loadDataDir` takes it (a tar archive); undefined when there is none. A file that is
 * not a gzipped tar holding a cluster throws: it is checked here because PGlite, given a damaged archive, fails
 * from a stream whose error nothing catches (the process exits).
 */
export function readPgliteTemplate(file: string = pgliteTemplateFile()): Blob | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const tar = gunzipSync(bytes);
  // a tar header's magic (POSIX ustar), and the file by which PostgreSQL (and PGlite) know a cluster
  if (tar.subarray(257, 262).toString('latin1') !== 'ustar' || !tar.includes('/PG_VERSION\0'))
    throw new Error('not an archive of a PostgreSQL cluster');
  return new Blob([tar]);
}
