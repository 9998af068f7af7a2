-- Trigram similarity (typo-tolerant title search). A custom migration, so that
-- the extension exists before the indexes of the next migration use it.
-- PGlite loads the extension's code from @electric-sql/pglite/contrib/pg_trgm.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
