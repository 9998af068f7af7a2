-- paper_title_terms follows papers.search_vector: its weight-A (title) lexemes, each with its count of
-- weight-B (summary) positions, and the paper's week. A row trigger rewrites a paper's rows when its
-- title, summary or week changes (whoever writes: the API, a CLI, psql); deleting a paper deletes
-- them through the foreign key. Then the existing archive is filled once.
CREATE OR REPLACE FUNCTION llmp_paper_title_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.search_vector = OLD.search_vector AND NEW.week_start = OLD.week_start THEN
      RETURN NULL;
    END IF;
    DELETE FROM paper_title_terms WHERE paper_id = OLD.id;
  END IF;
  INSERT INTO paper_title_terms (lexeme, paper_id, week_start, summary_count)
    SELECT u.lexeme, NEW.id, NEW.week_start, (SELECT count(*) FROM unnest(u.weights) w WHERE w = 'B')
    FROM unnest(NEW.search_vector) u
    WHERE 'A' = ANY (u.weights);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER papers_title_terms AFTER INSERT OR UPDATE OF title, summary, week_start ON papers
  FOR EACH ROW EXECUTE FUNCTION llmp_paper_title_terms();--> statement-breakpoint
INSERT INTO paper_title_terms (lexeme, paper_id, week_start, summary_count)
  SELECT u.lexeme, p.id, p.week_start, (SELECT count(*) FROM unnest(u.weights) w WHERE w = 'B')
  FROM papers p, unnest(p.search_vector) u
  WHERE 'A' = ANY (u.weights);
