import {
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
  sql,
  text,
  timestamp,
  unique,
} from './orm.js';

/** PostgreSQL full-text document. */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Publication state of an edition. Drafts are visible to editors only. */
export const issueStatus = pgEnum('issue_status', ['draft', 'published']);

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

/** A recurring section of the newsletter ("LLM Reasoning"). */
export const categories = pgTable('categories', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  slug: text('slug').notNull().unique('categories_slug_key'),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  ...timestamps,
});

export interface Aside {
  title: string;
  body: string;
}

/** A warning the importer gave for an edition's text (line of the imported file). */
export interface ImportWarning {
  line: number;
  message: string;
}

/** One weekly edition of the newsletter (called "issue" in the API). */
export const issues = pgTable(
  'issues',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    slug: text('slug').notNull().unique('issues_slug_key'),
    title: text('title').notNull(),
    subtitle: text('subtitle').notNull().default(''),
    weekStart: date('week_start', { mode: 'string' }).notNull(),
    weekEnd: date('week_end', { mode: 'string' }).notNull(),
    intro: text('intro').notNull().default(''),
    outro: text('outro').notNull().default(''),
    asides: jsonb('asides').$type<Aside[]>().notNull().default([]),
    /** Table-of-contents entries exactly as the editor wrote them; null: derived from the sections and asides. */
    tableOfContents: jsonb('table_of_contents').$type<string[]>(),
    /** Warnings of the import that last wrote this edition (editors only). */
    importWarnings: jsonb('import_warnings').$type<ImportWarning[]>().notNull().default([]),
    status: issueStatus('status').notNull().default('draft'),
    publishedAt: timestamp('published_at', { withTimezone: true, mode: 'date' }),
    /** Optimistic-concurrency version, bumped by every update. */
    version: integer('version').notNull().default(1),
    ...timestamps,
  },
  (t) => [
    // Keyset pagination over editions: (week_start, id) in either direction.
    index('issues_week_start_id_idx').on(t.weekStart, t.id),
    // The drafts alone (few or none): readers' statements exclude their papers through it (see visiblePapersByRow).
    index('issues_drafts_idx').on(t.id).where(sql`${t.status} = 'draft'`),
    check('issues_week_range_check', sql`${t.weekStart} <= ${t.weekEnd}`),
  ],
);

/** A category as it appears, numbered, inside one edition. */
export const sections = pgTable(
  'sections',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    issueId: integer('issue_id')
      .notNull()
      .references(() => issues.id, { onDelete: 'cascade' }),
    categoryId: integer('category_id')
      .notNull()
      .references(() => categories.id, { onDelete: 'restrict' }),
    /** 1-based section number inside the edition. */
    number: integer('number').notNull(),
  },
  (t) => [
    unique('sections_issue_number_key').on(t.issueId, t.number),
    unique('sections_issue_category_key').on(t.issueId, t.categoryId),
    index('sections_category_id_idx').on(t.categoryId),
    check('sections_number_check', sql`${t.number} between 1 and 999`),
  ],
);

/**
 * One numbered entry of an edition. `week_start` and `section_number` are
 * copies of the issue's week and the section's number, kept in step by the
 * writers, so that archive-wide orderings are served by one index.
 */
export const papers = pgTable(
  'papers',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    issueId: integer('issue_id')
      .notNull()
      .references(() => issues.id, { onDelete: 'cascade' }),
    sectionId: integer('section_id')
      .notNull()
      .references(() => sections.id, { onDelete: 'cascade' }),
    categoryId: integer('category_id')
      .notNull()
      .references(() => categories.id, { onDelete: 'restrict' }),
    weekStart: date('week_start', { mode: 'string' }).notNull(),
    sectionNumber: integer('section_number').notNull(),
    /** 1-based position inside the section: number "2.3" has position 3. */
    position: integer('position').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull().default(''),
    url: text('url'),
    arxivId: text('arxiv_id'),
    /** The number as the imported text wrote it ("2.3") when it differs from the stored one (a numbering gap). */
    numberAsWritten: text('number_as_written'),
    version: integer('version').notNull().default(1),
    /** Title (weight A) and summary (weight B), English stemming; maintained by PostgreSQL. */
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(summary, '')), 'B')`,
      ),
    /**
     * The title lowered, hyphens as spaces: what search compares the query as written with (a title holding "When to
     * Think"). Kept by PostgreSQL so that ranking does not lower every matching title again (~2 µs a row).
     */
    titleFolded: text('title_folded').notNull().generatedAlwaysAs(sql`translate(lower(title), '-', ' ')`),
    ...timestamps,
  },
  (t) => [
    index('papers_search_vector_idx').using('gin', t.searchVector),
    index('papers_title_trgm_idx').using('gin', t.title.op('gin_trgm_ops')),
    // The title's lexemes alone (the weight-A part of search_vector): exact ranking finds the matches with a query word in the title through it.
    index('papers_title_vector_idx').using('gin', sql`to_tsvector('english', ${t.title})`),
    // Every lexeme and every adjacent pair of lexemes (llmp_terms, migration 0012): a phrase's matches without reading
    // every paper that holds its words (src/db/queries/terms-query.ts).
    index('papers_terms_idx').using('gin', sql`llmp_terms(${t.searchVector})`),
    unique('papers_issue_number_key').on(t.issueId, t.sectionNumber, t.position),
    index('papers_section_id_idx').on(t.sectionId, t.position),
    index('papers_category_order_idx').on(t.categoryId, t.weekStart, t.issueId, t.sectionNumber, t.position),
    index('papers_order_idx').on(t.weekStart, t.issueId, t.sectionNumber, t.position),
    index('papers_arxiv_id_idx').on(t.arxivId),
    check('papers_position_check', sql`${t.position} between 1 and 999`),
  ],
);

/**
 * The title's words of every paper, one row per (lexeme, paper): the weight-A
 * lexemes of `papers.search_vector`, each with how often the summary holds it
 * (its weight-B positions) and the paper's week. Written only by a trigger on
 * `papers` (migrations/0011), never by the application. A one-word search
 * ranks the papers with the word in their title by that count, then by week;
 * the index below hands them over in that order, so a page is read from a few
 * index entries per count instead of scoring every title match
 * (src/db/queries/search.ts, titleTermsPageSql).
 */
export const paperTitleTerms = pgTable(
  'paper_title_terms',
  {
    lexeme: text('lexeme').notNull(),
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    weekStart: date('week_start', { mode: 'string' }).notNull(),
    /** Positions of the lexeme in the summary (at most 256: a tsvector keeps no more). */
    summaryCount: smallint('summary_count').notNull(),
  },
  (t) => [
    primaryKey({ name: 'paper_title_terms_pkey', columns: [t.paperId, t.lexeme] }),
    index('paper_title_terms_rank_idx').on(t.lexeme, t.summaryCount.desc(), t.weekStart.desc(), t.paperId.desc()),
  ],
);

/** Old slugs of categories merged into another one: they keep resolving. */
export const categoryAliases = pgTable(
  'category_aliases',
  {
    slug: text('slug').primaryKey(),
    categoryId: integer('category_id')
      .notNull()
      .references(() => categories.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('category_aliases_category_id_idx').on(t.categoryId)],
);

export const tokenScope = pgEnum('token_scope', ['editor', 'admin']);

/** API tokens. Only a SHA-256 hash of the secret is stored; the secret is shown once. */
export const apiTokens = pgTable('api_tokens', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull().unique('api_tokens_name_key'),
  tokenHash: text('token_hash').notNull().unique('api_tokens_token_hash_key'),
  scope: tokenScope('scope').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
});

export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type CategoryRow = typeof categories.$inferSelect;
export type IssueRow = typeof issues.$inferSelect;
export type SectionRow = typeof sections.$inferSelect;
/**
 * A paper as the API reads it. The search document stays in the database, and
 * list queries leave the summary out (it is most of a row's bytes): it is then
 * loaded, batched, only when a client asks for it.
 */
export type PaperRow = Omit<
  typeof papers.$inferSelect,
  'searchVector' | 'titleFolded' | 'summary' | 'numberAsWritten'
> & {
  summary?: string;
  /** Read only where a query selects it (paper pages, exports). */
  numberAsWritten?: string | null;
};
/** A paper read with its summary (exports, feeds, Markdown views). */
export type PaperWithSummary = PaperRow & { summary: string };
export type NewIssue = typeof issues.$inferInsert;
export type NewPaper = typeof papers.$inferInsert;

/** An endpoint that receives signed webhook deliveries (admin-managed). */
export const webhooks = pgTable(
  'webhooks',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    url: text('url').notNull(),
    /** Event types it receives (`issue.published`, …). */
    events: text('events').array().notNull(),
    description: text('description').notNull().default(''),
    /** Standard Webhooks secret (`whsec_…`): kept to sign with, shown once when made or rotated. */
    secret: text('secret').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Why it was disabled (by an admin, or after failing for WEBHOOK_DISABLE_AFTER). */
    disabledReason: text('disabled_reason'),
    /** Since when every attempt has failed (null: its last attempt succeeded). */
    failingSince: timestamp('failing_since', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [check('webhooks_events_check', sql`cardinality(${t.events}) >= 1`)],
);

export const deliveryStatus = pgEnum('webhook_delivery_status', ['pending', 'delivered', 'failed']);

/**
 * The outbox: one row per event and endpoint, written in the transaction of
 * the change itself; the server's worker claims due rows (SKIP LOCKED, then
 * a lease while it posts) and records each attempt's outcome.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    webhookId: integer('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    /** The `webhook-id` header: the same for a redelivery of the same event (receivers deduplicate on it). */
    messageId: text('message_id').notNull(),
    event: text('event').notNull(),
    /** The JSON body, as signed and sent. */
    payload: text('payload').notNull(),
    status: deliveryStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** A worker posting it holds it until then (a process that died lets it go when the lease ends). */
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    lastStatusCode: integer('last_status_code'),
    /** The start of the receiver's last answer (at most 1 KB). */
    lastResponse: text('last_response'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // The worker's question: each endpoint's oldest pending delivery.
    index('webhook_deliveries_pending_idx').on(t.webhookId, t.id).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.id),
  ],
);

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
