import { loadConfig } from '../config.js';
import { createDb } from '../db/client.js';

// Applies the committed migrations to DATABASE_URL (or the PGlite DATA_DIR).
const config = loadConfig();
const handle = await createDb({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR });
await handle.migrate();
await handle.close();
console.error(`migrations applied (${handle.kind})`);
