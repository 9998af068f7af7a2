import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { documentText } from '../helpers/http.js';
import { repoRoot } from '../helpers/server.js';
import { type ResultOf, graphql } from '../graphql.js';

const run = promisify(execFile);
const LATEST = graphql(`{ latestIssue { slug title sections { number } } }`);
let dataDir: string | undefined;
afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('npm run build emits JavaScript that `npm run start:dist` (node with its V8 flags, dist/server.js) runs without tsx', async () => {
  await run('npm', ['run', '--silent', 'build'], { cwd: repoRoot, timeout: 120_000 });
  expect(existsSync(path.join(repoRoot, 'dist/server.js'))).toBe(true);
  expect(existsSync(path.join(repoRoot, 'dist/tests'))).toBe(false);

  dataDir = mkdtempSync(path.join(os.tmpdir(), 'build-test-'));
  // the node arguments of `npm run start:dist` (its V8 memory flags must be ones this node accepts)
  const script: string = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts['start:dist'];
  const [command, ...args] = script.split(/\s+/);
  expect(command).toBe('node');
  expect(args[args.length - 1]).toBe('dist/server.js');
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    // plain node: no tsx loader inherited from the test runner
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      REDIS_URL: '',
      SEED_SAMPLE: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dist/server.js did not start:\n${out}`)), 60_000);
      const check = () => {
        const m = /GraphQL API on http:\/\/localhost:(\d+)\/graphql/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      void exited.then(() => reject(new Error(`dist/server.js exited:\n${out}`)));
    });
    expect(out).toContain('database: PGlite');
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: documentText(LATEST) }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: ResultOf<typeof LATEST> };
    expect(body.data.latestIssue?.slug).toBe('2025-05-05');
    expect(body.data.latestIssue?.sections).toHaveLength(5);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(out).toContain('Closed the database; bye.');
}, 150_000);

it('.env.example documents every variable of src/config.ts, each with a comment line', async () => {
  const { readFileSync } = await import('node:fs');
  const config = readFileSync(path.join(repoRoot, 'src/config.ts'), 'utf8');
  const schemaBody = config.slice(config.indexOf('z.object({'), config.indexOf('});', config.indexOf('z.object({')));
  const names = [...schemaBody.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
  expect(names.length).toBeGreaterThan(10);
  const lines = readFileSync(path.join(repoRoot, '.env.example'), 'utf8').split('\n');
  for (const name of [...names, 'PERSISTED_OPERATIONS', 'PERSISTED_OPERATIONS_MANIFEST', 'NODE_ENV']) {
    const at = lines.findIndex((l) => l.startsWith(`${name}=`));
    expect(at, `${name} missing from .env.example`).toBeGreaterThan(0);
    expect(lines[at - 1], `${name} needs a comment line`).toMatch(/^# \S/);
  }
});
