import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
// One copy of graphql for everything (two copies make Yoga mask real errors).
const graphqlDir = path.dirname(require.resolve('graphql/package.json'));

export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: path.join(graphqlDir, 'index.js') }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // Fault tests (a private PostgreSQL they stop and kill): `npm run test:faults`;
    // the processes a user runs, side by side: `npm run test:e2e`.
    exclude: ['tests/faults/**', 'tests/e2e/**', '**/node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
