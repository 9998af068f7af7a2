/**
 * A PRIVATE PostgreSQL 15 instance for fault tests: its own data directory in
 * a temp dir, its own port, run as the `postgres` OS user. The tests stop,
 * restart and kill -9 it at will; the machine's shared server on 5432 is
 * never touched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

export const privatePgAvailable = existsSync(path.join(BIN, 'pg_ctl')) && spawnSync('id', ['postgres']).status === 0;

export function asPostgres(cmd: string, args: string[], timeoutMs = 60_000): string {
  const run = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(run[0] as string, run[1] as string[], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A free TCP port from 25432 up (bound for a moment to check). Below the kernel's ephemeral range
 * (32768–60999 here): a port there could be taken as the source port of any outgoing connection while the
 * instance using it is stopped, and its restart would then fail to listen.
 */
export async function freePort(from = 25432): Promise<number> {
  for (let port = from + Math.floor(Math.random() * 500); port < 32768; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

export interface PrivatePg {
  port: number;
  dir: string;
  /** postgres://postgres@127.0.0.1:port/<database> */
  url(database?: string): string;
  start(): void;
  /** pg_ctl stop -m fast (or immediate). */
  stop(mode?: 'fast' | 'immediate' | 'smart'): void;
  /** SIGKILL to the postmaster (a crash; recovery on next start). */
  kill9(): void;
  running(): boolean;
  /** A plain client on the `postgres` database (or another), connected. */
  admin(database?: string): Promise<pg.Client>;
  createDatabase(name: string): Promise<string>;
  destroy(): void;
}

/** `settings`: more `-c name=value` server settings (e.g. shared_preload_libraries for a benchmark). */
export async function startPrivatePg(settings: Record<string, string> = {}): Promise<PrivatePg> {
  const root = mkdtempSync(path.join(tmpdir(), 'faults-pg-'));
  const dir = path.join(root, 'data');
  const port = await freePort();
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(root, uid, gid);
  asPostgres(
    path.join(BIN, 'initdb'),
    ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'],
    120_000,
  );
  const logFile = path.join(root, 'postgres.log');
  // fsync stays on (the default): kill -9 tests depend on real durability.
  const extra = Object.entries(settings)
    .map(([name, value]) => ` -c ${name}=${value}`)
    .join('');
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=32MB -c fsync=on${extra}`;
  const pgCtl = (...args: string[]) => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', dir, ...args], 90_000);

  const instance: PrivatePg = {
    port,
    dir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start() {
      pgCtl('start', '-w', '-t', '60', '-l', logFile, '-o', opts);
    },
    stop(mode = 'fast') {
      pgCtl('stop', '-w', '-t', '60', '-m', mode);
    },
    kill9() {
      // A crash of the whole server: the postmaster and every backend, at once.
      const pid = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
      for (const p of [pid, ...children]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const left = [pid, ...children].filter((p) => {
          try {
            process.kill(p, 0);
            return true;
          } catch {
            return false;
          }
        });
        if (left.length === 0) break;
        spawnSync('sleep', ['0.1']);
      }
    },
    running() {
      return spawnSync(path.join(BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1']).status === 0;
    },
    async admin(database = 'postgres') {
      const client = new pg.Client({ connectionString: instance.url(database) });
      client.on('error', () => {});
      await client.connect();
      return client;
    },
    async createDatabase(name) {
      const c = await instance.admin();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return instance.url(name);
    },
    destroy() {
      try {
        if (existsSync(path.join(dir, 'postmaster.pid'))) pgCtl('stop', '-w', '-t', '30', '-m', 'immediate');
      } catch {
        /* already down */
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  instance.start();
  return instance;
}

/** Polls `fn` until it returns true or `timeoutMs` passes; returns the elapsed ms or throws. */
export async function waitFor(
  fn: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      if (await fn()) return Date.now() - start;
    } catch {
      /* not yet */
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
