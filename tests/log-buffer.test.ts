import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.join(import.meta.dirname, 'fixtures/scripts/log-lines.ts');

function run(mode: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let out = '';
  let lastChunkAt = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    lastChunkAt = Date.now();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    lastChunkAt: () => lastChunkAt,
    lines: () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { n: number; time: number }),
  };
}

// The server's lines to stdout are gathered into larger writes (STDOUT_BUFFER): none may wait long or be lost.
describe('log lines to stdout', () => {
  it('a lone line is written within a second although the buffer is not full', async () => {
    const p = run('idle');
    try {
      const deadline = Date.now() + 10_000; // tsx's start included
      while (p.lines().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(p.lines().map((l) => l.n)).toEqual([1]);
      // `time` is when it was logged (epoch ms, the same clock): it arrived within a second of it
      expect(p.lastChunkAt() - p.lines()[0]!.time).toBeLessThan(1_000);
    } finally {
      p.child.stdin.end();
      await p.exited;
    }
  }, 20_000);

  it('lines still in the buffer are written when the process exits', async () => {
    const p = run('exit');
    expect(await p.exited).toBe(3);
    await new Promise((r) => setImmediate(r));
    expect(p.lines().map((l) => l.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  }, 20_000);
});
