import { ensureSnapshot } from './pglite-snapshot.js';

/** vitest globalSetup: the migrated PGlite snapshot every test file starts from (pglite-snapshot.ts). */
export default async function setup(): Promise<void> {
  await ensureSnapshot();
}
