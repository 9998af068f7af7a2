import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

/**
 * `npm run test:e2e`: the processes a user runs — `npm start`'s server, the
 * CLI commands beside it, kill -9 and restarts — on PGlite, and on
 * PostgreSQL when DATABASE_URL is set. One file at a time: they start
 * servers and time out generously on a small machine.
 */
export default defineConfig({
  resolve,
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
