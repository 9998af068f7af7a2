/**
 * `npm install`'s postinstall step: makes the empty PGlite cluster that every new embedded database of this
 * installation starts from (src/db/pglite-template.ts reads it), so that a first start extracts a cluster
 * (~1 s) instead of running PGlite's initdb (4.5–5.5 s). Once per PGlite version; nothing of the application
 * is in it (the migrations run on it at start). It never fails the install: without the file a new database
 * runs initdb as before.
 *
 *   node scripts/pglite-template.mjs [--force]
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The same file as src/db/pglite-template.ts's pgliteTemplateFile() (a test keeps them equal). */
export function templateFile() {
  let dir = path.dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  while (path.basename(dir) !== 'node_modules') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('@electric-sql/pglite is not inside a node_modules directory');
    dir = up;
  }
  return path.join(dir, '.cache', 'llm-papers', `pglite-cluster-${version}.tar.gz`);
}

async function main() {
  const file = templateFile();
  if (existsSync(file) && !process.argv.includes('--force')) return;
  const started = performance.now();
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const dump = await db.dumpDataDir('gzip');
    mkdirSync(path.dirname(file), { recursive: true });
    // Written under a temporary name, then renamed: a reader never sees half a file.
    writeFileSync(temp, Buffer.from(await dump.arrayBuffer()));
    renameSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
    await db.close();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `llm-papers: made the embedded database's empty cluster in ${seconds} s (${path.relative(process.cwd(), file)})`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.warn(`llm-papers: no template for new embedded databases (${err?.message ?? err}); they will run initdb.`);
  });
}
