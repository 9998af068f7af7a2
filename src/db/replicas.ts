import { sql } from './orm.js';
import type { Db, DbHandle } from './client.js';
import { selectRows } from './queries/util.js';

/**
 * Reads on streaming replicas (DATABASE_REPLICA_URLS), never staler than a
 * client may see:
 *
 * - each replica's replay position (`pg_last_wal_replay_lsn()`) is polled and
 *   compared with the primary's recent positions: its lag is how long ago the
 *   primary was where the replica is now. A replica that does not answer, or
 *   lags more than REPLICA_MAX_LAG_MS, is out of rotation until it answers
 *   and catches up again;
 * - a read must see a WAL position (the client's `x-read-after`, the last
 *   write of its token, the last change this process heard of): it goes to a
 *   replica that has replayed it — waiting up to REPLICA_WAIT_MS for one to
 *   get there — else to the primary.
 *
 * Writes, transactions and subscriptions' reads use the primary (the app
 * decides which requests read here).
 */

/** A WAL position as a number (`16/B374D848` → 0x16B374D848). */
export function lsnValue(lsn: string): bigint {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(lsn.trim());
  if (!m) throw new Error(`not a WAL position: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export function isLsn(value: string): boolean {
  return /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i.test(value);
}

export interface ReplicaStatus {
  name: string;
  healthy: boolean;
  /** Estimated replication lag in ms (null before the first answer). */
  lagMs: number | null;
  replayLsn: string | null;
  error: string | null;
}

export interface ReplicaSetOptions {
  primary: Db;
  replicas: Array<{ name: string; handle: Pick<DbHandle, 'db' | 'close'> }>;
  maxLagMs: number;
  /** How long a read may wait for a replica to replay its position before it goes to the primary. */
  waitMs: number;
  pollMs: number;
  onStatus?: (status: ReplicaStatus, change: 'in' | 'out') => void;
}

interface Replica {
  name: string;
  db: Db;
  close: () => Promise<void>;
  replay: bigint | null;
  replayText: string | null;
  lagMs: number | null;
  lastOkAt: number;
  healthy: boolean;
  error: string | null;
}

export interface ReplicaSet {
  /** The database a read that must see `afterLsn` (or the latest change heard of) should use. */
  reader(afterLsn: bigint | null): Promise<Db>;
  /** The primary's current WAL position (after a commit: a read-after position for the writer). */
  primaryLsn(): Promise<string>;
  /** Every read from now on must see `position`, or what the primary holds now (a change was announced). */
  raiseFloor(position?: bigint): Promise<void>;
  status(): ReplicaStatus[];
  close(): Promise<void>;
}

async function currentLsn(db: Db): Promise<string> {
  const [row] = await selectRows<{ lsn: string }>(db, sql`SELECT pg_current_wal_lsn()::text AS lsn`);
  return row!.lsn;
}

async function replayLsn(db: Db): Promise<string | null> {
  const [row] = await selectRows<{ lsn: string | null }>(db, sql`SELECT pg_last_wal_replay_lsn()::text AS lsn`);
  return row?.lsn ?? null;
}

export function createReplicaSet(options: ReplicaSetOptions): ReplicaSet {
  const { primary, maxLagMs, waitMs, pollMs } = options;
  const replicas: Replica[] = options.replicas.map((r) => ({
    name: r.name,
    db: r.handle.db,
    close: r.handle.close,
    replay: null,
    replayText: null,
    lagMs: null,
    lastOkAt: 0,
    healthy: false,
    error: null,
  }));
  /** The primary's positions over the last moments: [time, position], oldest first. */
  const history: Array<[number, bigint]> = [];
  let floor = 0n;
  let next = 0;
  let closed = false;

  const statusOf = (r: Replica): ReplicaStatus => ({
    name: r.name,
    healthy: r.healthy,
    lagMs: r.lagMs,
    replayLsn: r.replayText,
    error: r.error,
  });

  function setHealthy(r: Replica, healthy: boolean): void {
    if (r.healthy === healthy) return;
    r.healthy = healthy;
    options.onStatus?.(statusOf(r), healthy ? 'in' : 'out');
  }

  /** How long ago the primary was at `position` or before (0: the replica holds all the primary had). */
  function lagOf(position: bigint, now: number): number {
    const newest = history.at(-1);
    if (!newest || position >= newest[1]) return 0;
    for (let i = history.length - 1; i >= 0; i--) if (history[i]![1] <= position) return now - history[i]![0];
    return now - (history[0]?.[0] ?? now) + pollMs;
  }

  async function poll(): Promise<void> {
    const now = Date.now();
    try {
      history.push([now, lsnValue(await currentLsn(primary))]);
      while (history.length > 2 && history[0]![0] < now - 4 * maxLagMs - 4 * pollMs) history.shift();
    } catch {
      // The primary is down: the replicas' lag cannot be told; they keep their state.
    }
    await Promise.all(
      replicas.map(async (r) => {
        try {
          const text = await replayLsn(r.db);
          if (text === null) throw new Error('not a replica (pg_last_wal_replay_lsn() is null)');
          r.replay = lsnValue(text);
          r.replayText = text;
          r.lagMs = lagOf(r.replay, Date.now());
          r.lastOkAt = Date.now();
          r.error = null;
          setHealthy(r, r.lagMs <= maxLagMs);
        } catch (err) {
          r.error = err instanceof Error ? err.message : String(err);
          setHealthy(r, false);
        }
      }),
    );
  }

  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    if (closed) return;
    await poll();
    if (!closed) timer = setTimeout(loop, pollMs).unref();
  };
  void loop();

  async function caughtUp(r: Replica, position: bigint): Promise<boolean> {
    if (r.replay !== null && r.replay >= position) return true;
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(5, waitMs)));
      try {
        const text = await replayLsn(r.db);
        if (text === null) return false;
        const value = lsnValue(text);
        if (r.replay === null || value > r.replay) {
          r.replay = value;
          r.replayText = text;
        }
        if (value >= position) return true;
      } catch {
        setHealthy(r, false);
        return false;
      }
    }
    return false;
  }

  return {
    async reader(afterLsn) {
      const healthy = replicas.filter((r) => r.healthy);
      if (healthy.length === 0) return primary;
      const position = afterLsn !== null && afterLsn > floor ? afterLsn : floor;
      // Round robin, preferring one that already holds the position.
      const start = next++ % healthy.length;
      const order = [...healthy.slice(start), ...healthy.slice(0, start)];
      const ready = order.find((r) => r.replay !== null && r.replay >= position);
      if (ready) return ready.db;
      return (await caughtUp(order[0]!, position)) ? order[0]!.db : primary;
    },
    primaryLsn: () => currentLsn(primary),
    async raiseFloor(position) {
      const value = position ?? lsnValue(await currentLsn(primary));
      if (value > floor) floor = value;
    },
    status: () => replicas.map(statusOf),
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.all(replicas.map((r) => r.close().catch(() => {})));
    },
  };
}
