import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection now, for memory known to have just become garbage in bulk (PGlite's initdb instance,
 * DbHandle.created): V8 counts WebAssembly memory as external and, with nothing else allocating, collects it only
 * when its memory reducer runs (Node 24: ~10 s after start when idle; Node 20 still held it a minute later), or at
 * the next full collection under load.
 * `gc` is reachable without starting Node with --expose-gc by enabling the flag and reading it from a new context.
 */
export function collectGarbageNow(): boolean {
  try {
    gc ??= exposedGc();
    if (!gc) return false;
    gc();
    return true;
  } catch {
    return false;
  }
}

/** Found once: each look makes a new context. */
let gc: (() => void) | null | undefined;

function exposedGc(): (() => void) | null {
  v8.setFlagsFromString('--expose-gc');
  const found = vm.runInNewContext('gc') as unknown;
  return typeof found === 'function' ? (found as () => void) : null;
}
