/** `npm run bench`: runs every benchmark in turn; each writes its section of BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(here, '..', 'node_modules', '.bin', 'tsx');
const benches = [
  'import.ts',
  'search.ts',
  'search-random.ts',
  'search-sql.ts',
  'mixed-load.ts',
  'perf.ts',
  'startup.ts',
  'visibility.ts',
];
for (const bench of benches) {
  console.error(`== ${bench}`);
  execFileSync(tsx, [path.join(here, bench), ...process.argv.slice(2)], { stdio: 'inherit' });
}
