import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

/**
 * `npm run test:faults`: tests that start a private PostgreSQL 15 (the
 * machine's binaries, a temp directory, a free port) and stop, restart and
 * kill it, and kill server processes. One file at a time: they measure
 * latencies on a small machine.
 */
export default defineConfig({
  resolve,
  test: {
    include: ['tests/faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
