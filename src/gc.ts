import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection now, for memory known to have just become garbage in bulk (PGlite's initdb instance,
 * DbHandle.created): V8 counts WebAssembly memory as external and, with nothing else allocating, collects it only
 * when its memory reducer runs (Node 24: ~10 s after start when idle; Node 20 still held it a minute later), or at
 * the next full collection under load.
 * `gc` is reachable without starting Node with --expose-gc by enabling the flag and reading it from a new context.
 */
export function collectGarbageNow(options: { shrink?: boolean } = {}): boolean {
  try {
    gc ??= exposedGc();
    if (!gc) return false;
    if (options.shrink) gc(SHRINKING);
    else gc();
    return true;
  } catch {
    return false;
  }
}

/**
 * V8's last-resort collection (what it runs itself before giving up on memory): full collections until nothing more
 * is freed, then its young generation shrunk to its smallest and the pages it pooled given back. A regular full
 * collection leaves the young generation's semi-spaces as they grew under load (2 × 16 MB with start:dist's
 * settings) and keeps freed pages for reuse, so resident memory barely moves (BENCHMARKS.md, `startup`). V8s that
 * do not know the option make a regular full collection.
 */
const SHRINKING = { type: 'major', execution: 'sync', flavor: 'last-resort' } as const;

/** Found once: each look makes a new context. */
let gc: ((options?: typeof SHRINKING) => void) | null | undefined;

function exposedGc(): ((options?: typeof SHRINKING) => void) | null {
  v8.setFlagsFromString('--expose-gc');
  const found = vm.runInNewContext('gc') as unknown;
  return typeof found === 'function' ? (found as (options?: typeof SHRINKING) => void) : null;
}
