import { defineConfig } from 'vitest/config';
import { resolve } from './vitest.shared.js';

export default defineConfig({
  resolve,
  test: {
    include: ['tests/**/*.test.ts'],
    // Fault tests (a private PostgreSQL they stop and kill): `npm run test:faults`;
    // the processes a user runs, side by side: `npm run test:e2e`; the scale-out topology: `npm run test:scale`.
    exclude: ['tests/faults/**', 'tests/e2e/**', 'tests/scale/**', '**/node_modules/**'],
    // A migrated PGlite made once, loaded by every test file (tests/helpers/pglite-snapshot.ts).
    globalSetup: ['tests/helpers/global-setup.ts'],
    pool: 'forks',
    // Files share a worker's loaded modules (no re-import of the app per file: import time was ~40% of the
    // suite). Each file still makes its own database and app; no test mocks a module or changes env.
    isolate: false,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
