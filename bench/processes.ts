/**
 * Benchmark processes: a server started as a user starts it, ready when its
 * health path answers. Used by bench/perf.ts and bench/search-random.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface System {
  name: string;
  port: number;
  child: ChildProcess;
  pid: number;
  url: string;
  exited: Promise<void>;
}

/** Starts a server (its output appended to a log file in `logDir`) and waits until `readyPath` answers 200 (the API's /readyz; PostGraphile's endpoint). */
export async function startProcess(
  logDir: string,
  name: string,
  port: number,
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  readyPath: string,
): Promise<System> {
  const logFile = path.join(logDir, `${name.replace(/\W+/g, '-')}-${port}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exitCode !== null || child.exitCode !== null)
      throw new Error(`${name} exited before it was ready:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    if (Date.now() > deadline)
      throw new Error(`${name} not ready in 60 s:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      const res = await fetch(
        `http://127.0.0.1:${port}${readyPath}`,
        readyPath === '/graphql'
          ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }
          : {},
      );
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, port, child, pid: child.pid!, url: `http://127.0.0.1:${port}/graphql`, exited };
}

/** `start:dist`'s node flags, read from package.json so that the benchmark runs exactly what ships. */
export function startDistFlags(dir: string): string[] {
  const script = (
    JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts['start:dist'];
  const words = (script ?? '').split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/server.js')
    throw new Error(`start:dist in ${dir} is not "node … dist/server.js": ${script}`);
  return words.slice(1, -1);
}

/**
 * The production settings the benchmarks start the shipped server with (README's): the response cache off (each
 * benchmark says when it measures it on) and the rate budget high, as a deployment expecting this load would set
 * it — every request is still charged.
 */
export const SHIPPED_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  RESPONSE_CACHE: 'off',
  SEED_SAMPLE: 'false',
  RATE_LIMIT_POINTS: '1000000000',
  RATE_LIMIT_IN_FLIGHT: '1000',
};
