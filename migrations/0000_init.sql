CREATE TYPE "public"."issue_status" AS ENUM('draft', 'published');--> statement-breakpoint
CREATE TABLE "categories" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "categories_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "categories_slug_key" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "issues" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "issues_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"slug" text NOT NULL,
	"title" text NOT NULL,
	"subtitle" text DEFAULT '' NOT NULL,
	"week_start" date NOT NULL,
	"week_end" date NOT NULL,
	"intro" text DEFAULT '' NOT NULL,
	"outro" text DEFAULT '' NOT NULL,
	"asides" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" "issue_status" DEFAULT 'draft' NOT NULL,
	"published_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "issues_slug_key" UNIQUE("slug"),
	CONSTRAINT "issues_week_range_check" CHECK ("issues"."week_start" <= "issues"."week_end")
);
--> statement-breakpoint
CREATE TABLE "papers" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "papers_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"issue_id" integer NOT NULL,
	"section_id" integer NOT NULL,
	"category_id" integer NOT NULL,
	"week_start" date NOT NULL,
	"section_number" integer NOT NULL,
	"position" integer NOT NULL,
	"title" text NOT NULL,
	"summary" text DEFAULT '' NOT NULL,
	"url" text,
	"arxiv_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "papers_issue_number_key" UNIQUE("issue_id","section_number","position"),
	CONSTRAINT "papers_position_check" CHECK ("papers"."position" between 1 and 999)
);
--> statement-breakpoint
CREATE TABLE "sections" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sections_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"issue_id" integer NOT NULL,
	"category_id" integer NOT NULL,
	"number" integer NOT NULL,
	CONSTRAINT "sections_issue_number_key" UNIQUE("issue_id","number"),
	CONSTRAINT "sections_issue_category_key" UNIQUE("issue_id","category_id"),
	CONSTRAINT "sections_number_check" CHECK ("sections"."number" between 1 and 999)
);
--> statement-breakpoint
ALTER TABLE "papers" ADD CONSTRAINT "papers_issue_id_issues_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."issues"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "papers" ADD CONSTRAINT "papers_section_id_sections_id_fk" FOREIGN KEY ("section_id") REFERENCES "public"."sections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "papers" ADD CONSTRAINT "papers_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sections" ADD CONSTRAINT "sections_issue_id_issues_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."issues"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sections" ADD CONSTRAINT "sections_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "issues_week_start_id_idx" ON "issues" USING btree ("week_start","id");--> statement-breakpoint
CREATE INDEX "papers_section_id_idx" ON "papers" USING btree ("section_id","position");--> statement-breakpoint
CREATE INDEX "papers_category_order_idx" ON "papers" USING btree ("category_id","week_start","issue_id","section_number","position");--> statement-breakpoint
CREATE INDEX "papers_order_idx" ON "papers" USING btree ("week_start","issue_id","section_number","position");--> statement-breakpoint
CREATE INDEX "papers_arxiv_id_idx" ON "papers" USING btree ("arxiv_id");--> statement-breakpoint
CREATE INDEX "sections_category_id_idx" ON "sections" USING btree ("category_id");