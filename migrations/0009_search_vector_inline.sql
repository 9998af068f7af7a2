-- Keep each paper's search vector in its row (inline, uncompressed when it fits) and let the
-- summary go to the TOAST table first when a row is too long. A search scores every match from
-- the vector, several times per row (title, phrases, rank); stored out of line (which PostgreSQL
-- chose for about a fifth of the papers, the vector being the larger of the two) every reference
-- fetched it again from the TOAST table: ~5 buffer reads a match instead of ~1 at 1M papers.
-- Rows written before this keep their layout until rewritten (VACUUM FULL papers).
ALTER TABLE "papers" ALTER COLUMN "search_vector" SET STORAGE MAIN;
