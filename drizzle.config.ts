import { defineConfig } from 'drizzle-kit';

// Migrations are generated from src/db/schema.ts into migrations/ and committed.
// They are applied at start-up (and by `npm run db:migrate`) with Drizzle's
// programmatic migrator, which works for both PGlite and PostgreSQL.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  strict: true,
  verbose: true,
});
