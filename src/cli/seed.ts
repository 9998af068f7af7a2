import { loadConfig } from '../config.js';
import { openCommandDb } from './database.js';
import { seedSample } from '../fixtures/seed.js';

// Loads the sample edition into DATABASE_URL (or the PGlite DATA_DIR). Idempotent.
const config = loadConfig();
const handle = await openCommandDb(config, 'db:seed');
const inserted = await seedSample(handle.db);
await handle.close();
console.error(inserted ? 'sample edition loaded' : 'sample edition already present: nothing changed');
