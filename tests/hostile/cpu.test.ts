import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { cpuOf } from './helpers.js';

// The hostile tests' CPU budgets are only as good as the measurement: it must see work done by the
// request, and not a collection of what other tests left.

describe('cpuOf', () => {
  it('counts work done on this thread', async () => {
    // Arithmetic that allocates nothing (no collection can fall in it), ~100 ms here; a wall-clock deadline would
    // not do: a collection that other test files' garbage causes would fill part of it.
    const work = () => {
      let x = 0;
      for (let i = 0; i < 25_000_000; i++) x = (x + i * 7) % 1_000_003;
      return x;
    };
    work();
    const start = process.cpuUsage();
    const { cpuMs } = await cpuOf(work);
    const used = process.cpuUsage(start);
    const processMs = (used.user + used.system) / 1000;
    expect(processMs).toBeGreaterThan(30);
    expect(cpuMs).toBeGreaterThan(processMs * 0.5);
  });

  it('does not count a full garbage collection of a large heap', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const held = Array.from({ length: 2_000_000 }, (_, i) => ({ i, s: `x${i}` }));
    const full = await cpuOf(() => gc());
    const collected = await cpuOf(() => {
      for (let i = 0; i < 5; i++) gc();
    });
    expect(held).toHaveLength(2_000_000);
    // the same collections, timed with the wall clock, are far over what cpuOf reads
    const wall = performance.now();
    for (let i = 0; i < 5; i++) gc();
    expect(performance.now() - wall).toBeGreaterThan(20);
    expect(full.cpuMs + collected.cpuMs).toBeLessThan(10);
  });
});
