import { loadConfig } from '../config.js';
import { openCommandDb } from './database.js';

// Applies the committed migrations to DATABASE_URL (or the PGlite DATA_DIR). Beside a running
// PGlite server there is nothing to do: the server applied them when it started, and the
// command refuses (changing nothing) when this version has migrations the server lacks.
const config = loadConfig();
const handle = await openCommandDb(config, 'db:migrate');
await handle.close();
console.error(
  handle.serverPid
    ? `migrations already applied by the running server (PID ${handle.serverPid})`
    : `migrations applied (${handle.kind})`,
);
