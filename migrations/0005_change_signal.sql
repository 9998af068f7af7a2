-- The database announces every change to the archive itself, whoever makes it
-- (the API, a CLI, psql, another server process): a statement-level trigger
-- sends NOTIFY llmp_changes with the table's name. PostgreSQL delivers it at
-- commit (never for a rolled-back write), once per table and transaction
-- (identical payloads are folded), and the server drops its caches on it.
CREATE OR REPLACE FUNCTION llmp_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('llmp_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER issues_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON issues
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();--> statement-breakpoint
CREATE TRIGGER sections_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sections
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();--> statement-breakpoint
CREATE TRIGGER papers_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON papers
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();--> statement-breakpoint
CREATE TRIGGER categories_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();--> statement-breakpoint
CREATE TRIGGER category_aliases_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON category_aliases
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();--> statement-breakpoint
-- Tokens: not the touch of last_used_at that every authenticated request may make.
CREATE TRIGGER api_tokens_notify_change AFTER INSERT OR DELETE OR TRUNCATE ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();--> statement-breakpoint
CREATE TRIGGER api_tokens_notify_update AFTER UPDATE OF name, token_hash, scope, expires_at, revoked_at ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION llmp_notify_change();
