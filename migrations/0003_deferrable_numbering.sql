-- Section numbers and paper positions are renumbered in place when editors
-- move, delete or reorder. The unique keys stay checked at once by default,
-- but may be deferred to the end of a renumbering transaction
-- (SET CONSTRAINTS … DEFERRED), so that numbers can be swapped.
ALTER TABLE "sections" DROP CONSTRAINT "sections_issue_number_key";--> statement-breakpoint
ALTER TABLE "sections" ADD CONSTRAINT "sections_issue_number_key" UNIQUE ("issue_id", "number") DEFERRABLE INITIALLY IMMEDIATE;--> statement-breakpoint
ALTER TABLE "papers" DROP CONSTRAINT "papers_issue_number_key";--> statement-breakpoint
ALTER TABLE "papers" ADD CONSTRAINT "papers_issue_number_key" UNIQUE ("issue_id", "section_number", "position") DEFERRABLE INITIALLY IMMEDIATE;
