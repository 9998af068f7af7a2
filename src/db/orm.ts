/**
 * Every drizzle-orm value the application uses, from one module. `npm run build` replaces this
 * module's compiled output with one esbuild bundle of these exports (drizzle inlined, `pg` and
 * PGlite left as imports): Node 24's ES module loader re-reads drizzle-orm's 179 KB package.json
 * for each of the package's few hundred files, which cost the server about a second at every
 * start (BENCHMARKS.md, startup). Types may still be imported from drizzle-orm directly.
 */
export {
  Name,
  SQL,
  StringChunk,
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNull,
  lt,
  lte,
  or,
  sql,
} from 'drizzle-orm';
export { readMigrationFiles } from 'drizzle-orm/migrator';
export { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
export { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
export { NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres/session';
export {
  boolean,
  check,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
export { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
export { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
