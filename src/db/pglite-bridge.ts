import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { BridgeInfo } from './dir-lock.js';

/**
 * Lets other processes (the CLI commands, psql) use the embedded PGlite of a
 * running server over the PostgreSQL wire protocol, on a Unix socket. A
 * PGlite directory may be opened by one process only; through the bridge,
 * every writer goes through the one that holds it.
 *
 * Written here rather than taken from @electric-sql/pglite-socket because
 * that server locks PGlite per protocol message with the *query* lock only:
 * a statement of a socket client could then run inside a transaction of the
 * server's own (in-process) code, and the server's statements inside a
 * socket client's open transaction. Here a client holds PGlite's
 * *transaction* lock from its first message until PostgreSQL reports it idle
 * again (ReadyForQuery 'I'), so in-process transactions and bridged ones
 * never interleave. (It also peer-pins an older PGlite.)
 *
 * All clients share the server's one session: named prepared statements and
 * portals of the protocol are scoped per client (scopeNames); session
 * settings a client changes with SET, and SQL-level PREPARE, are not — the
 * commands of this project use neither.
 */

/** Bumped when a command of this version could not talk to a server of the previous one. */
export const BRIDGE_PROTOCOL = 1;
/** libpq and `pg` look for `<host>/.s.PGSQL.<port>`. */
export const BRIDGE_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${BRIDGE_PORT}`;
/** Unix socket paths are limited to ~107 bytes; longer data directories get a socket under the temp dir. */
const MAX_SOCKET_PATH = 100;
const MAX_CONNECTIONS = 16;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

export interface BridgeOptions {
  pglite: PGlite;
  dataDir: string;
  /** A client that keeps a transaction open and silent this long is disconnected and rolled back. */
  idleInTransactionMs: number;
  /**
   * NOTIFY messages found in the output of bridged statements. They are taken
   * out of what the client receives (its session is the server's, so they are
   * the server's); PGlite also hands them to its own `listen` callbacks.
   */
  onNotification?: ((channel: string, payload: string) => void) | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

export interface PgliteBridge {
  info: BridgeInfo;
  /** Stops listening, rolls back what clients left open, and closes their sockets. */
  close(): Promise<void>;
}

/** Where the socket of the server holding `dataDir` lives. */
export function bridgeSocketDir(dataDir: string): string {
  const dir = path.resolve(dataDir);
  if (path.join(dir, SOCKET_NAME).length <= MAX_SOCKET_PATH) return dir;
  return path.join(tmpdir(), `llmp-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
}

const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

function errorResponse(severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer {
  return message(
    'E',
    Buffer.concat([
      cstring(`S${severity}`),
      cstring(`V${severity}`),
      cstring(`C${code}`),
      cstring(`M${text}`),
      Buffer.from([0]),
    ]),
  );
}

function readCString(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  return [buf.toString('utf8', at, end), end + 1];
}

function rebuild(type: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/**
 * Named prepared statements and portals live in the one session every client
 * shares (and outlive a client's connection): each client's names get a
 * prefix of its own, so that two clients (or a client that reconnects) never
 * meet each other's statements. Returns the message to run and the statement
 * name it creates or closes.
 */
function scopeNames(msg: Buffer, prefix: string): { msg: Buffer; parsed?: string; closed?: string } {
  const scope = (name: string) => (name === '' ? '' : `${prefix}${name}`);
  const type = msg[0]!;
  if (type === 0x50 /* Parse */) {
    const [name, at] = readCString(msg, 5);
    return { msg: rebuild(type, [cstring(scope(name)), msg.subarray(at)]), ...(name ? { parsed: scope(name) } : {}) };
  }
  if (type === 0x42 /* Bind */) {
    const [portal, at] = readCString(msg, 5);
    const [statement, rest] = readCString(msg, at);
    return { msg: rebuild(type, [cstring(scope(portal)), cstring(scope(statement)), msg.subarray(rest)]) };
  }
  if (type === 0x45 /* Execute */) {
    const [portal, at] = readCString(msg, 5);
    return { msg: rebuild(type, [cstring(scope(portal)), msg.subarray(at)]) };
  }
  if (type === 0x44 /* Describe */ || type === 0x43 /* Close */) {
    const kind = msg[5]!;
    const [name, at] = readCString(msg, 6);
    const scoped = scope(name);
    const closed = type === 0x43 && kind === 0x53 /* S */ && name ? scoped : undefined;
    return {
      msg: rebuild(type, [Buffer.from([kind]), cstring(scoped), msg.subarray(at)]),
      ...(closed ? { closed } : {}),
    };
  }
  return { msg };
}

/** Sync, then a simple-query ROLLBACK: leaves the session as a new client expects it. */
const SYNC = message('S', Buffer.alloc(0));
const ROLLBACK = message('Q', cstring('ROLLBACK'));

/**
 * Splits PGlite's output into messages: takes out NotificationResponse ('A')
 * messages for `onNotification`, and returns the last ReadyForQuery status.
 */
function scanOutput(out: Uint8Array, onNotification?: (channel: string, payload: string) => void) {
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  const kept: Buffer[] = [];
  let status: string | null = null;
  let start = 0;
  let offset = 0;
  while (offset + 5 <= buf.length) {
    const type = buf[offset]!;
    const end = offset + 1 + buf.readInt32BE(offset + 1);
    if (type === 0x5a /* Z */) status = String.fromCharCode(buf[offset + 5]!);
    if (type === 0x41 /* A */) {
      if (offset > start) kept.push(buf.subarray(start, offset));
      const fields = buf
        .subarray(offset + 9, end)
        .toString('utf8')
        .split('\0');
      onNotification?.(fields[0] ?? '', fields[1] ?? '');
      start = end;
    }
    offset = end;
  }
  if (start < buf.length) kept.push(buf.subarray(start));
  return { bytes: kept.length === 1 ? kept[0]! : Buffer.concat(kept), status };
}

async function startupParameters(pglite: PGlite): Promise<Buffer> {
  const names = [
    'server_version',
    'server_encoding',
    'client_encoding',
    'DateStyle',
    'IntervalStyle',
    'TimeZone',
    'integer_datetimes',
    'standard_conforming_strings',
  ];
  const { rows } = await pglite.query<{ name: string; value: string }>(
    `SELECT name, current_setting(name) AS value FROM unnest($1::text[]) AS name`,
    [names],
  );
  return Buffer.concat(rows.map((r) => message('S', Buffer.concat([cstring(r.name), cstring(r.value)]))));
}

class BridgeConnection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private closed = false;
  /** Releases PGlite's transaction lock; set while this client holds it. */
  private release: (() => void) | null = null;
  private work: Promise<void> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Named statements this client has prepared (scoped names), closed when it leaves. */
  private readonly statements = new Set<string>();

  constructor(
    private readonly socket: Socket,
    private readonly options: BridgeOptions,
    private readonly greeting: Buffer,
    private readonly prefix: string,
  ) {
    socket.on('data', (chunk) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.enqueue(() => this.drain());
    });
    socket.on('error', () => this.enqueue(() => this.finish()));
    socket.on('close', () => this.enqueue(() => this.finish()));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** One thing at a time per client, in order. */
  enqueue(step: () => Promise<void>): Promise<void> {
    this.work = this.work.then(step).catch((err) => {
      this.options.onError?.(err);
      this.socket.destroy();
      return this.finish();
    });
    return this.work;
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      if (!this.started) {
        if (!this.startup()) return;
        continue;
      }
      if (this.buffer.length < 5) return;
      const total = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < total) return;
      const msg = Buffer.from(this.buffer.subarray(0, total));
      this.buffer = this.buffer.subarray(total);
      if (msg[0] === 0x58 /* X: Terminate */) {
        this.socket.end();
        await this.finish();
        return;
      }
      await this.execute(msg);
    }
  }

  /** Startup packets (no type byte): SSL/GSS negotiation, cancel, then the StartupMessage. */
  private startup(): boolean {
    if (this.buffer.length < 8) return false;
    const length = this.buffer.readInt32BE(0);
    if (length < 8 || length > 10_000) {
      this.socket.end(errorResponse('FATAL', '08P01', 'invalid startup packet'));
      this.closed = true;
      return false;
    }
    if (this.buffer.length < length) return false;
    const code = this.buffer.readInt32BE(4);
    this.buffer = this.buffer.subarray(length);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N');
    } else if (code === CANCEL_REQUEST) {
      // PGlite runs one statement at a time in the server's thread: nothing to signal.
      this.socket.end();
      this.closed = true;
    } else if (code === PROTOCOL_3) {
      // The client's startup options (user, database, -c settings) are not applied: they
      // would change the one session the server itself uses.
      this.socket.write(this.greeting);
      this.started = true;
    } else {
      this.socket.end(errorResponse('FATAL', '0A000', 'unsupported frontend protocol'));
      this.closed = true;
    }
    return true;
  }

  private async execute(original: Buffer): Promise<void> {
    clearTimeout(this.idleTimer);
    await this.hold();
    const { pglite } = this.options;
    const { msg, parsed, closed } = scopeNames(original, this.prefix);
    if (parsed) this.statements.add(parsed);
    if (closed) this.statements.delete(closed);
    const out = await pglite.runExclusive(() => pglite.execProtocolRaw(msg));
    const { bytes, status } = scanOutput(out, this.options.onNotification);
    if (bytes.length > 0 && !this.socket.destroyed) this.socket.write(bytes);
    if (status === 'I') this.unhold();
    else if (this.release)
      this.idleTimer = setTimeout(() => this.enqueue(() => this.idleTimeout()), this.options.idleInTransactionMs);
  }

  private async idleTimeout(): Promise<void> {
    if (!this.release || this.closed) return;
    this.socket.end(errorResponse('FATAL', '25P03', 'terminating connection due to idle-in-transaction timeout'));
    await this.finish();
  }

  /** Takes PGlite's transaction lock (FIFO with the server's own queries and transactions). */
  private async hold(): Promise<void> {
    if (this.release) return;
    await new Promise<void>((acquired) => {
      void this.options.pglite._runExclusiveTransaction(
        () =>
          new Promise<void>((release) => {
            this.release = release;
            acquired();
          }),
      );
    });
  }

  private unhold(): void {
    const release = this.release;
    this.release = null;
    release?.();
  }

  /** The client left: roll back whatever it left open, then let the server's queries in again. */
  async finish(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.closed = true;
    if (!this.release && this.statements.size === 0) return;
    const { pglite } = this.options;
    try {
      await this.hold();
      await pglite.runExclusive(async () => {
        await pglite.execProtocolRaw(SYNC);
        if (pglite.isInTransaction()) await pglite.execProtocolRaw(ROLLBACK);
        for (const name of this.statements)
          await pglite.execProtocolRaw(message('Q', cstring(`DEALLOCATE "${name.replaceAll('"', '""')}"`)));
        this.statements.clear();
      });
    } finally {
      this.unhold();
    }
  }
}

/** Starts the bridge for the PGlite of `options.dataDir` (the caller holds the directory's lock). */
export async function startPgliteBridge(options: BridgeOptions): Promise<PgliteBridge> {
  const socketDir = bridgeSocketDir(options.dataDir);
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(socketDir, SOCKET_NAME);
  try {
    unlinkSync(socketPath); // left by a server that was killed; we hold the directory now
  } catch {
    /* none */
  }
  const parameters = await startupParameters(options.pglite);
  const connections = new Set<BridgeConnection>();
  let nextKey = 1;
  const server: Server = createServer((socket) => {
    if (connections.size >= MAX_CONNECTIONS) {
      socket.end(errorResponse('FATAL', '53300', "too many connections to the server's database"));
      return;
    }
    const id = nextKey++;
    const key = Buffer.concat([int32(process.pid), int32(id)]);
    const greeting = Buffer.concat([
      message('R', int32(0)),
      parameters,
      message('K', key),
      message('Z', Buffer.from('I')),
    ]);
    const connection = new BridgeConnection(socket, options, greeting, `b${id}_`);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  server.on('error', (err) => options.onError?.(err));
  // Same-user access only, like PostgreSQL's own socket.
  chmodSync(socketPath, 0o600);
  return {
    info: { socketDir, protocol: BRIDGE_PROTOCOL },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(
        [...connections].map((c) =>
          c.enqueue(async () => {
            await c.finish();
          }),
        ),
      );
      for (const c of connections) c.destroy();
      await closed;
      try {
        unlinkSync(socketPath);
      } catch {
        /* gone */
      }
    },
  };
}
