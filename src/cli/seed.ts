import { loadConfig } from '../config.js';
import { createDb } from '../db/client.js';
import { seedSample } from '../db/seed.js';

// Loads the sample edition into DATABASE_URL (or the PGlite DATA_DIR). Idempotent.
const config = loadConfig();
const handle = await createDb({ url: config.DATABASE_URL, dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR });
await handle.migrate();
const inserted = await seedSample(handle.db);
await handle.close();
console.error(inserted ? 'sample edition loaded' : 'sample edition already present: nothing changed');
