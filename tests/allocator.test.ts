/**
 * src/allocator.ts: the server re-executes itself once with glibc's malloc trimming, in place (same pid), where
 * it can (Linux, glibc, Node with process.execve: Node 24 in CI), and leaves an operator's setting alone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { V8_FLAGS, missingV8Flags } from '../src/v8-flags.js';
import { repoRoot, startServer } from './helpers/server.js';

const canReexec =
  process.platform === 'linux' &&
  typeof (process as unknown as { execve?: unknown }).execve === 'function' &&
  Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

/** The environment of a running process, as the kernel holds it (what glibc read at exec). */
function environOf(pid: number): Record<string, string> {
  const pairs = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'llm-papers-allocator-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe.skipIf(process.platform !== 'linux')('the allocator setting at start', () => {
  const base = {
    DATABASE_URL: undefined,
    DATA_DIR: dataDir,
    MALLOC_TRIM_THRESHOLD_: undefined,
    MALLOC_MMAP_THRESHOLD_: undefined,
    // initdb, not the installation's template: the first test checks that initdb's memory is freed
    PGLITE_TEMPLATE: 'off',
  };

  it(`${canReexec ? 'is set by re-executing in place' : 'is left to glibc on a Node without process.execve'}; the server serves`, async () => {
    const server = await startServer(base);
    try {
      const env = environOf(server.child.pid!);
      // The process we spawned is the one serving (execve keeps the pid), with or without the setting.
      expect(readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8')).toContain('scripts/start.mjs');
      const args = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
      if (canReexec) {
        expect(env.MALLOC_TRIM_THRESHOLD_).toBe('1048576');
        expect(env.MALLOC_MMAP_THRESHOLD_).toBe('1048576');
        // started as `node scripts/start.mjs`: start:dist's V8 settings were added
        for (const flag of V8_FLAGS) expect(args).toContain(flag);
      } else {
        expect(env.MALLOC_TRIM_THRESHOLD_).toBeUndefined();
      }
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ issues(first: 1) { nodes { title } } }' }),
      });
      expect(((await res.json()) as { data: { issues: { nodes: unknown[] } } }).data.issues.nodes).toHaveLength(1);
      // A first start (this data directory was empty): the memory of PGlite's initdb instance (~320 MB, external to
      // V8's heap) was collected once the database was ready, not left for V8's next full collection.
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const external = Number(/^nodejs_external_memory_bytes (\d+)/m.exec(metrics)?.[1]);
      expect(external).toBeGreaterThan(0);
      expect(external / 1048576).toBeLessThan(250);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);

  it.skipIf(!canReexec)(
    'adds only the V8 settings the operator did not give (NODE_OPTIONS)',
    async () => {
      const server = await startServer({ ...base, NODE_OPTIONS: '--max-old-space-size=1024' });
      try {
        const args = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
        expect(args).toContain('--max-semi-space-size=16');
        expect(args).toContain('--heap-growing-percent=200');
        expect(args.some((a) => a.startsWith('--max-old-space-size'))).toBe(false);
        expect(environOf(server.child.pid!).NODE_OPTIONS).toBe('--max-old-space-size=1024');
      } finally {
        expect(await server.stop()).toBe(0);
      }
    },
    120_000,
  );

  it("keeps an operator's own setting and does not re-execute", async () => {
    const server = await startServer({ ...base, MALLOC_TRIM_THRESHOLD_: '4194304' });
    try {
      const env = environOf(server.child.pid!);
      expect(env.MALLOC_TRIM_THRESHOLD_).toBe('4194304');
      expect(env.MALLOC_MMAP_THRESHOLD_).toBeUndefined();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});

describe('V8_FLAGS', () => {
  it("are start:dist's flags", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['start:dist']).toBe(`node ${V8_FLAGS.join(' ')} dist/server.js`);
  });

  it('are missing unless given, in either spelling, on the command line or in NODE_OPTIONS', () => {
    expect(missingV8Flags([], undefined)).toEqual(V8_FLAGS);
    expect(missingV8Flags(['--max_old_space_size=512'], '--heap-growing-percent=100  ')).toEqual([
      '--max-semi-space-size=16',
    ]);
    expect(missingV8Flags(V8_FLAGS, '')).toEqual([]);
  });
});
