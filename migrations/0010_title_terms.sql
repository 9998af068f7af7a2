CREATE TABLE "paper_title_terms" (
	"lexeme" text NOT NULL,
	"paper_id" integer NOT NULL,
	"week_start" date NOT NULL,
	"summary_count" smallint NOT NULL,
	CONSTRAINT "paper_title_terms_pkey" PRIMARY KEY("paper_id","lexeme")
);
--> statement-breakpoint
ALTER TABLE "paper_title_terms" ADD CONSTRAINT "paper_title_terms_paper_id_papers_id_fk" FOREIGN KEY ("paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "paper_title_terms_rank_idx" ON "paper_title_terms" USING btree ("lexeme","summary_count" DESC NULLS LAST,"week_start" DESC NULLS LAST,"paper_id" DESC NULLS LAST);