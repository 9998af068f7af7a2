-- The terms of a paper's search vector for papers_terms_idx (the next migration): every lexeme, and every pair of
-- lexemes at adjacent positions as one lexeme 'a b' (pairs longer than 2 046 bytes left out: a tsquery operand
-- holds at most 2 047). A quoted phrase's words are in most papers of a large archive, its adjacent pairs in few:
-- the index then hands over about the papers that hold the phrase (src/db/queries/terms-query.ts builds its query).
-- Pairs are found by position, not by the order of the lexemes: positions past 16 383 are all 16 383, so several
-- lexemes may share one, and each of them pairs with the one before.
-- COST 100 (the default, said for the reader): computed per row it is ~0.2 ms, but the planner charges a bitmap
-- heap scan the cost of its index condition on every row it might recheck, and at 10 000 it chose parallel plans
-- twice as slow for the statements this index serves (BENCHMARKS.md); a filter on it still costs more than the index.
CREATE OR REPLACE FUNCTION llmp_terms(v tsvector) RETURNS tsvector
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS $$
DECLARE
  pairs text[];
BEGIN
  WITH p AS (SELECT u.lexeme, pos FROM unnest(v) u, unnest(u.positions) pos)
  SELECT array_agg(a.lexeme || ' ' || b.lexeme) INTO pairs
    FROM p a JOIN p b ON b.pos = a.pos + 1
    WHERE octet_length(a.lexeme) + octet_length(b.lexeme) + 1 <= 2046;
  -- (array_to_tsvector removes the duplicates)
  RETURN array_to_tsvector(tsvector_to_array(v) || coalesce(pairs, '{}'));
END
$$;
