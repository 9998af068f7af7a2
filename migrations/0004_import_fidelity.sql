ALTER TABLE "issues" ADD COLUMN "table_of_contents" jsonb;--> statement-breakpoint
ALTER TABLE "issues" ADD COLUMN "import_warnings" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "papers" ADD COLUMN "number_as_written" text;