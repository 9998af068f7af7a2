import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DirLockError extends Error {}

/** What `DATA_DIR/.lock` says about the process that holds the directory. */
export interface LockHolder {
  pid: number;
  /** `server` shares its database through `bridge`; a command (`import`, `token`, …) holds it alone. */
  role: string;
  /** Start time of the process (Linux: clock ticks since boot), to tell a reused PID from the holder. */
  processStart?: string | undefined;
  /** Set by a server once other processes may reach its database (see pglite-bridge.ts). */
  bridge?: BridgeInfo | undefined;
}

export interface BridgeInfo {
  /** Directory of the Unix socket `.s.PGSQL.5432` (what `pg` and `psql -h` take as host). */
  socketDir: string;
  /** Version of the bridge's behaviour; a command refuses a server of another one. */
  protocol: number;
}

export interface DirLock {
  /** Records how other processes reach the holder's database (servers only). */
  publish(bridge: BridgeInfo): void;
  /** Idempotent; only removes the file while it is still ours. */
  release(): void;
}

const LOCK_FILE = '.lock';
/** A process that died while stealing a stale lock leaves this behind; it is ignored after this long. */
const STEAL_STALE_MS = 10_000;

/** Start time of a process from /proc (Linux); undefined elsewhere. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which may itself contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The PID was reused by another process after the holder died (kill -9, reboot).
  const start = holder.processStart ? processStart(holder.pid) : undefined;
  return !(start && start !== holder.processStart);
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as LockHolder;
    if (Number.isInteger(value?.pid) && value.pid > 0) return value;
  } catch {
    // A lock written by an earlier version holds just the PID.
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 0) return { pid, role: 'server' };
  }
  return null;
}

/** The live process holding `dir` (not this one), or null when the directory is free. */
export function lockHolder(dir: string): LockHolder | null {
  let text: string;
  try {
    text = readFileSync(path.join(dir, LOCK_FILE), 'utf8');
  } catch {
    return null;
  }
  const holder = parseHolder(text);
  return holder && holder.pid !== process.pid && alive(holder) ? holder : null;
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/**
 * Removes a stale lock (its holder is gone) without racing another process
 * doing the same: only the one that creates `.lock.steal` may remove it, and
 * it checks again that the lock is the stale one it saw.
 */
function removeStale(file: string, staleText: string): void {
  const steal = `${file}.steal`;
  try {
    const age = Date.now() - statSync(steal).mtimeMs;
    if (age > STEAL_STALE_MS) unlinkSync(steal);
  } catch {
    /* no steal in progress */
  }
  let fd: number;
  try {
    fd = openSync(steal, 'wx', 0o644);
  } catch {
    return; // another process is stealing it: retry later
  }
  try {
    closeSync(fd);
    if (readFileSync(file, 'utf8') === staleText) unlinkSync(file);
  } catch {
    /* already gone */
  } finally {
    try {
      unlinkSync(steal);
    } catch {
      /* ignore */
    }
  }
}

/**
 * Takes `dir/.lock` (created with O_EXCL, holding our PID and role) so that
 * only one process opens an embedded PGlite directory at a time: two would
 * corrupt it. A lock left by a process that no longer runs is taken over.
 * Returns null when a live process holds it (see `lockHolder`).
 */
export function tryAcquireDirLock(dir: string, role: string): DirLock | null {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, role, processStart: processStart(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return ownLock(file, me);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // removed meanwhile
    }
    const holder = parseHolder(text);
    if (holder && holder.pid !== process.pid && alive(holder)) return null;
    removeStale(file, text);
  }
  throw new DirLockError(
    `Could not lock the data directory ${path.resolve(dir)} (${file}); another process keeps taking it.`,
  );
}

function ownLock(file: string, me: LockHolder): DirLock {
  let released = false;
  const ours = () => parseHolder(readFileSync(file, 'utf8'))?.pid === process.pid;
  return {
    publish: (bridge) => {
      if (!released && ours()) writeAtomically(file, JSON.stringify({ ...me, bridge }));
    },
    release: () => {
      if (released) return;
      released = true;
      try {
        if (ours()) unlinkSync(file);
      } catch {
        /* already gone */
      }
    },
  };
}

/** How a holder is named in messages: "the server (PID 123)" or "`npm run import` (PID 123)". */
export function describeHolder(holder: LockHolder): string {
  return holder.role === 'server' ? `the server (PID ${holder.pid})` : `\`npm run ${holder.role}\` (PID ${holder.pid})`;
}

/**
 * Waits until `dir` is free and takes it, up to `timeoutMs`; `onWait` is
 * told once who holds it. Throws DirLockError naming the holder on timeout.
 */
export async function acquireDirLock(
  dir: string,
  role: string,
  options: { timeoutMs: number; onWait?: (holder: LockHolder) => void; signal?: AbortSignal },
): Promise<DirLock> {
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  for (;;) {
    const lock = tryAcquireDirLock(dir, role);
    if (lock) return lock;
    const holder = lockHolder(dir);
    if (holder && !told) {
      told = true;
      options.onWait?.(holder);
    }
    if (Date.now() >= deadline || options.signal?.aborted) {
      const who = holder ? describeHolder(holder) : 'another process';
      throw new DirLockError(
        `The data directory ${path.resolve(dir)} is in use by ${who}; only one process may open an embedded PGlite database. ` +
          `Wait for it to finish or stop it, or set DATA_DIR to another directory.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
