/**
 * The scale-out topology of docs/deploy.md, from the machine's Debian
 * binaries, in private directories and ports on 127.0.0.1: a PostgreSQL 15
 * primary and a streaming replica (pg_basebackup -R), PgBouncer in
 * transaction pooling in front of the primary, a private Redis, HAProxy
 * balancing the API processes with health checks. Nothing here touches the
 * machine's own PostgreSQL or Redis.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, type PrivatePg, asPostgres, freePort, startPrivatePg, waitFor } from '../faults/private-pg.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';
export const HAPROXY = '/usr/sbin/haproxy';
export const REDIS = '/usr/bin/redis-server';

export const topologyAvailable =
  existsSync(path.join(BIN, 'pg_basebackup')) &&
  existsSync(PGBOUNCER) &&
  existsSync(HAPROXY) &&
  existsSync(REDIS) &&
  spawnSync('id', ['postgres']).status === 0;

/** A directory the postgres OS user owns (its processes write there). */
function postgresDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  return dir;
}

/** The postgres OS user's ids, for processes started as that user (the process itself: no runuser between). */
function postgresIds(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
}

/** Resolves when something accepts TCP connections on the port. */
export async function listening(port: number, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    timeoutMs,
    `a listener on ${port}`,
  );
}

async function stopChild(child: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}

export interface Replica {
  port: number;
  url(database?: string): string;
  start(): void;
  stop(): void;
  destroy(): void;
}

/** A streaming replica of `primary`: pg_basebackup -R (standby.signal and primary_conninfo written for us). */
export async function startReplica(primary: PrivatePg): Promise<Replica> {
  const root = postgresDir('scale-replica-');
  const dir = path.join(root, 'data');
  const port = await freePort(26432);
  asPostgres(
    path.join(BIN, 'pg_basebackup'),
    ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', dir, '-R', '-X', 'stream', '-c', 'fast'],
    180_000,
  );
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=32MB -c hot_standby=on`;
  const pgCtl = (...args: string[]) => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', dir, ...args], 90_000);
  const replica: Replica = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start: () => pgCtl('start', '-w', '-t', '60', '-l', path.join(root, 'postgres.log'), '-o', opts),
    stop: () => pgCtl('stop', '-w', '-t', '60', '-m', 'fast'),
    destroy() {
      try {
        pgCtl('stop', '-w', '-t', '30', '-m', 'immediate');
      } catch {
        /* already down */
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  replica.start();
  return replica;
}

export interface Pgbouncer {
  port: number;
  url(database: string): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * PgBouncer (Debian's 1.18) in transaction pooling mode in front of the primary, as docs/deploy.md
 * recommends: the `options` startup parameter ignored (timeouts are set on the database instead).
 */
export async function startPgbouncer(primaryPort: number): Promise<Pgbouncer> {
  const root = postgresDir('scale-pgbouncer-');
  const port = await freePort(27432);
  const ini = path.join(root, 'pgbouncer.ini');
  writeFileSync(path.join(root, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    ini,
    `[databases]
* = host=127.0.0.1 port=${primaryPort}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${path.join(root, 'userlist.txt')}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
logfile = ${path.join(root, 'pgbouncer.log')}
pidfile = ${path.join(root, 'pgbouncer.pid')}
`,
  );
  for (const f of ['pgbouncer.ini', 'userlist.txt']) {
    execFileSync('chown', ['postgres:postgres', path.join(root, f)]);
  }
  let child: ChildProcess | null = null;
  const bouncer: Pgbouncer = {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      child = spawn(PGBOUNCER, [ini], { stdio: 'ignore', ...postgresIds() });
      await listening(port);
    },
    async stop() {
      // SIGTERM: immediate shutdown (SIGINT would wait for every client, and the API's pools never leave).
      await stopChild(child, 'SIGTERM');
      child = null;
    },
    async destroy() {
      await stopChild(child, 'SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
  };
  await bouncer.start();
  return bouncer;
}

export interface PrivateRedis {
  url: string;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort(28432);
  const dir = mkdtempSync(path.join(tmpdir(), 'scale-redis-'));
  const child = spawn(
    REDIS,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  await listening(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async destroy() {
      await stopChild(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Haproxy {
  url: string;
  /** `UP`, `DOWN`… of each backend server, from the stats socket. */
  status(): Promise<Record<string, string>>;
  destroy(): Promise<void>;
}

/** HAProxy balancing the API processes (round robin), checking `/readyz` every `interMs`. */
export async function startHaproxy(backends: Record<string, number>, interMs = 500): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'scale-haproxy-'));
  const port = await freePort(29432);
  const socket = path.join(dir, 'stats.sock');
  const servers = Object.entries(backends)
    .map(([name, p]) => `  server ${name} 127.0.0.1:${p} check`)
    .join('\n');
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global
  maxconn 2000
  stats socket ${socket} mode 600 level admin

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 1

frontend api
  bind 127.0.0.1:${port}
  default_backend apis

backend apis
  balance roundrobin
  option httpchk GET /readyz
  default-server inter ${interMs}ms fall 2 rise 2
${servers}
`,
  );
  const child = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: 'ignore' });
  await listening(port);
  return {
    url: `http://127.0.0.1:${port}`,
    async status() {
      const out = await new Promise<string>((resolve, reject) => {
        const s = connect(socket);
        let text = '';
        s.on('data', (d) => (text += d));
        s.on('end', () => resolve(text));
        s.on('error', reject);
        s.end('show stat\n');
      });
      const result: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const cols = line.split(',');
        if (cols[0] === 'apis' && cols[1] && cols[1] !== 'BACKEND') result[cols[1]] = cols[17] ?? '';
      }
      return result;
    },
    async destroy() {
      await stopChild(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { startPrivatePg, type PrivatePg, waitFor };
