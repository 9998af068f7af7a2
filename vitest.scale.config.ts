import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

/**
 * `npm run test:scale`: the scale-out topology on real engines (tests/scale/topology.ts) — a private
 * PostgreSQL primary and replica, PgBouncer, Redis, HAProxy and two API processes — under load and failures.
 */
export default defineConfig({
  resolve,
  test: {
    include: ['tests/scale/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
