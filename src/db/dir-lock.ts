import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DirLockError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `dir/.lock` (created with O_EXCL, holding our PID) so that only one
 * process opens an embedded PGlite directory at a time: two would corrupt
 * it. A lock left by a process that no longer runs (kill -9, power loss) is
 * taken over. Returns the function that releases it (idempotent).
 */
export function acquireDirLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    } catch {
      /* removed meanwhile, or unreadable: retry */
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new DirLockError(
        `The data directory ${path.resolve(dir)} is in use by another process (PID ${holder}); ` +
          `only one process may open an embedded PGlite database. Stop it, or set DATA_DIR to another directory.`,
      );
    }
    // Stale (the holder is gone) or garbage: take it over.
    try {
      unlinkSync(file);
    } catch {
      /* someone else took it over first: retry */
    }
  }
  throw new DirLockError(`Could not lock the data directory ${path.resolve(dir)} (${file}); another process keeps taking it.`);
}
