/**
 * `npm start` and the commands beside it (`npm run import`, `export`, `token`,
 * `db:seed`, `db:migrate`, `mcp`): runs a module of src/ without a TypeScript
 * loader in the process.
 *
 *   node scripts/start.mjs [src/cli/NAME.ts] [ARGS…]   (default: src/server.ts)
 *
 * The sources are compiled file by file with esbuild (what tsx itself uses,
 * so the same semantics), drizzle-orm's values bundled into db/orm.js as
 * `npm run build` does, into node_modules/.cache/llm-papers/start-<hash of
 * the sources>/, and the module's compiled file is imported, with ARGS as its
 * process.argv.slice(2). A start with unchanged sources compiles nothing. Why
 * not `node --import tsx`: tsx's loader hooks see every import, and Node 24's
 * ES module loader reads drizzle-orm's files one by one (~1 s): a restart of
 * the server took 3.8–4.4 s against 1.9–2.3 s for dist/ (BENCHMARKS.md
 * `startup`). Nothing is written to stdout (`npm run --silent mcp` speaks
 * its protocol there).
 *
 * Concurrent starts (tests start several servers) each compile into a
 * directory of their own and rename it into place; the first rename wins and
 * the others use its output.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const cache = path.join(root, 'node_modules', '.cache', 'llm-papers');
/** What db/orm.js leaves to Node (as `npm run build` does): packages with native or WebAssembly parts. */
const ORM_EXTERNAL = ['pg', '@electric-sql/pglite'];

// The module to run, relative to src/ (its argument is taken out of process.argv, which the module reads).
let entry = 'server.ts';
const asked = process.argv[2];
if (asked?.startsWith('src/')) {
  entry = asked.slice('src/'.length);
  process.argv.splice(2, 1);
}

const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .sort();
const hash = createHash('sha256');
for (const f of files)
  hash
    .update(f)
    .update('\0')
    .update(readFileSync(path.join(src, f)))
    .update('\0');
hash.update(readFileSync(fileURLToPath(import.meta.url)));
const out = path.join(cache, `start-${hash.digest('hex').slice(0, 16)}`);

// Only a module of src/ by its own name (no `..`, no compiled name): anything else is a mistake, said plainly.
if (!/^[\w/-]+\.ts$/.test(entry) || !files.includes(entry)) {
  console.error(`scripts/start.mjs: no module src/${entry} (expected src/server.ts or src/cli/NAME.ts)`);
  process.exit(2);
}
if (!existsSync(path.join(out, 'server.js'))) {
  const { build } = await import('esbuild');
  const tmp = `${out}.${process.pid}.tmp`;
  const common = { platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning' };
  const orm = path.join('db', 'orm.ts');
  await build({
    ...common,
    entryPoints: files.filter((f) => f !== orm).map((f) => path.join(src, f)),
    outdir: tmp,
    outbase: src,
  });
  await build({
    ...common,
    entryPoints: [path.join(src, orm)],
    bundle: true,
    external: ORM_EXTERNAL,
    outfile: path.join(tmp, 'db', 'orm.js'),
  });
  try {
    renameSync(tmp, out);
  } catch (error) {
    // Another start got there first with the same sources: use its output.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(out, 'server.js'))) throw error;
  }
  // Outputs of earlier sources are of no further use; so are compiles left by a start that died (an hour old:
  // a younger one may be another start's, still compiling).
  for (const old of readdirSync(cache)) {
    const dir = path.join(cache, old);
    if (!old.startsWith('start-') || dir === out) continue;
    if (old.endsWith('.tmp') && Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
    rmSync(dir, { recursive: true, force: true });
  }
}

// Stack traces point into src/*.ts, as under tsx.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(path.join(out, entry.replace(/\.ts$/, '.js'))).href);
