/**
 * scripts/start.mjs (npm start and the commands beside it) runs only a module
 * of src/ named as written: any other `src/…` argument is refused with a
 * plain message and exit code 2, before anything is compiled or opened.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/server.js';

describe('scripts/start.mjs', () => {
  it.each([
    'src/cli/nope.ts',
    'src/../package.ts',
    'src/cli/../server.ts',
    'src/cli/import.js',
    'src/cli/import',
    'src/',
    'src/cli/im port.ts',
  ])('refuses %j with exit 2 and says which modules it runs', (arg) => {
    const run = spawnSync(process.execPath, ['scripts/start.mjs', arg], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, PORT: '0', DATA_DIR: '/nonexistent/never-created' },
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no module src/');
    expect(run.stderr).toContain('expected src/server.ts or src/cli/NAME.ts');
    expect(run.stdout).toBe('');
  });
});
