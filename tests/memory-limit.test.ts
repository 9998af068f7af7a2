import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { collectGarbageNow } from '../src/gc.js';
import { memorySoftLimit } from '../src/memory-limit.js';

// The memory soft limit's logic (src/memory-limit.ts) on a clock and an RSS the test sets; the real collection
// and the server's default are checked at the end.

const MB = 1024 * 1024;

/**
 * A limit of 100 MB over a fake process: `rss` in MB, a clock in ms, each collection taking `collectMs` and leaving
 * `afterCollect()` MB, the load adding `growPerLook` MB between two looks.
 */
function fake(collectMs = 10, afterCollect?: () => number, growPerLook = 0) {
  const state = { rss: 50, t: 0, collected: 0, over: [] as number[] };
  const limit = memorySoftLimit({
    limitBytes: 100 * MB,
    rss: () => state.rss * MB,
    now: () => state.t,
    collect: () => {
      state.collected++;
      state.t += collectMs;
      if (afterCollect) state.rss = afterCollect();
      return true;
    },
    onOver: (rss) => state.over.push(rss / MB),
  });
  /** Time passes in steps of 250 ms (the sampling interval), with a look at each. */
  const run = (ms: number) => {
    for (let end = state.t + ms; state.t < end; state.t += 250) {
      limit.check();
      state.rss += growPerLook;
    }
  };
  return { state, limit, run };
}

describe('memory soft limit', () => {
  it('does nothing under the limit', () => {
    const { state, run } = fake();
    run(10_000);
    expect(state.collected).toBe(0);
  });

  it('collects when over it, at most once a second, and says nothing when that brings memory under it', () => {
    // each collection brings RSS to 80 MB; the load adds 20 MB every 250 ms: over the limit again 750 ms later
    const { state, run, limit } = fake(10, () => 80, 20);
    state.rss = 120;
    run(250);
    expect(state.collected).toBe(1);
    run(750);
    expect(state.collected).toBe(1);
    run(9_250);
    // 10.25 s: a collection at most every second
    expect(state.collected).toBeGreaterThanOrEqual(8);
    expect(state.collected).toBeLessThanOrEqual(11);
    expect(limit.collections()).toBe(state.collected);
    expect(state.over).toEqual([]);
  });

  it('never spends more than 1/20 of the time collecting', () => {
    const { state, run } = fake(200); // a slow collection: the next waits 4 s
    state.rss = 120;
    run(20_000);
    expect(state.collected).toBeLessThanOrEqual(5);
    expect(state.collected * 200).toBeLessThanOrEqual(20_000 / 20);
  });

  it('backs off, and warns once, when a collection leaves memory over the limit; recovers when it falls', () => {
    let live = 130; // what the process holds exceeds the limit: collecting does not help
    const { state, run } = fake(10, () => live);
    state.rss = 130;
    run(60_000);
    // waits of 1, 2, 4, 8, 16, 32 s…: a handful of collections in a minute, not sixty
    expect(state.collected).toBeGreaterThanOrEqual(5);
    expect(state.collected).toBeLessThanOrEqual(7);
    expect(state.over).toEqual([130]); // told once, after the third collection that did not help
    // the live memory falls; the next collection brings RSS under the limit; the wait is a second again
    live = 80;
    run(70_000);
    const before = state.collected;
    state.rss = 120;
    live = 120; // over again, a collection does not bring it under: a new episode, a new warning
    run(1_000);
    expect(state.collected).toBe(before + 1);
    run(500);
    expect(state.over).toEqual([130]); // one collection that did not help: not yet
    run(10_000);
    expect(state.over).toEqual([130, 120]);
  });

  it('collects for real in this process (V8 full collection through the exposed gc)', () => {
    let collected = false;
    const limit = memorySoftLimit({ limitBytes: 1, collect: undefined, onCollect: () => (collected = true) });
    limit.check();
    expect(collected).toBe(true);
    expect(limit.collections()).toBe(1);
  });

  // Node 24's V8 takes the last-resort option; Node 20's makes a regular collection of it (the limit is off there).
  it.runIf(Number(process.versions.node.split('.')[0]) >= 24)(
    "shrinks V8's young generation, which a regular full collection leaves as load grew it",
    () => {
      const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
      // Garbage in the young generation until V8 has grown it past its smallest (1 MB semi-spaces).
      const grow = () => {
        let keep: unknown[] = [];
        for (let i = 0; i < 3_000_000 && newSpace() <= 4 * MB; i++) {
          keep.push({ i, s: `x${i}` });
          if (keep.length > 50_000) keep = [];
        }
        return newSpace();
      };
      expect(grow()).toBeGreaterThan(4 * MB);
      expect(collectGarbageNow()).toBe(true);
      expect(newSpace()).toBeGreaterThan(4 * MB);
      expect(collectGarbageNow({ shrink: true })).toBe(true);
      expect(newSpace()).toBeLessThanOrEqual(2 * MB);
    },
  );

  it('MEMORY_SOFT_LIMIT_MB: a number of MB (≥ 64) or off; anything else stops the start by name', () => {
    expect(loadConfig({ MEMORY_SOFT_LIMIT_MB: '300' }).MEMORY_SOFT_LIMIT_MB).toBe('300');
    expect(loadConfig({ MEMORY_SOFT_LIMIT_MB: 'off' }).MEMORY_SOFT_LIMIT_MB).toBe('off');
    expect(loadConfig({}).MEMORY_SOFT_LIMIT_MB).toBeUndefined();
    for (const bad of ['10', 'abc', '240MB', 'OFF', '-1', ' 240', '1e3', '0x100', '9999999']) {
      let message = '';
      try {
        loadConfig({ MEMORY_SOFT_LIMIT_MB: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      // said once, by name
      expect(message.match(/MEMORY_SOFT_LIMIT_MB: must be a number of MB \(at least 64\) or off/g), bad).toHaveLength(
        1,
      );
    }
  });
});
