import { type Db, IMPORT_STATEMENT_TIMEOUT_MS } from '../db/client.js';
import {
  type IssueContentInput,
  type ReplaceCounts,
  type ReplacingSection,
  currentPapers,
  ensureCategories,
  insertIssueContent,
  lockIssueBySlug,
  replaceIssueContent,
  updateIssueFields,
} from '../db/queries/issue-content.js';
import type { IssueRow } from '../db/schema.js';
import { ConflictError, ParseError, ValidationError } from '../errors.js';
import { matchPapers } from '../newsletter/match.js';
import { IssueParseError, parseIssue } from '../newsletter/parse/index.js';
import { slugify } from '../newsletter/slug.js';
import type { IssueDocument, ParseOptions, ParseWarning } from '../newsletter/types.js';
import { inTransaction } from './transaction.js';
import { recordIssueEvent } from './webhook-events.js';
import { importedIssueSchema, isoDateSchema, validate } from './validation.js';

export interface ImportOptions {
  format: 'text' | 'markdown';
  /** Parse and check only; write nothing. */
  dryRun?: boolean;
  /** Publish the edition (otherwise it is stored as a draft). */
  publish?: boolean;
  /** Override the week (YYYY-MM-DD); the end defaults to start + 6 days. */
  weekStart?: string;
  weekEnd?: string;
  /** Year for "DD/MM" dates when the text names none. */
  year?: number;
  /**
   * Replace the sections and papers of an existing edition with the same
   * slug: papers still there keep their ids (see matchPapers).
   */
  replace?: boolean;
  /** Numbering problems are errors instead of warnings. */
  strict?: boolean;
  /** Slug to store the edition under; default: the week start date (YYYY-MM-DD). */
  slug?: string;
}

export interface ImportResult {
  /** The edition as stored: papers numbered contiguously (numberAsWritten where the text differed). */
  document: IssueDocument;
  warnings: ParseWarning[];
  slug: string;
  /** Id of the written edition; null in a dry run. */
  issueId: number | null;
  /** true: a new edition; false: an existing one was replaced (or dry run). */
  created: boolean;
  /** true when this import published the edition (it was not published before). */
  published: boolean;
  paperCount: number;
  /** With replace: what happened to the edition's papers; null for a new edition or a dry run. */
  replaced: (ReplaceCounts & { kept: number }) | null;
}

/** An edition's own fields, the sections to write and the rest of what an import stores. */
type IssueWrite = Omit<IssueContentInput, 'slug' | 'status' | 'publishedAt' | 'sections'> & {
  sections: ReplacingSection[];
};

/** Parses edition text, mapping parser failures to a ParseError (with the line). */
function parseForImport(
  input: string | Uint8Array,
  options: ImportOptions,
): { document: IssueDocument; warnings: ParseWarning[] } {
  for (const field of ['weekStart', 'weekEnd'] as const) {
    if (options[field] !== undefined) validate(isoDateSchema, options[field], [field]);
  }
  const parseOptions: ParseOptions = { format: options.format };
  if (options.year !== undefined) parseOptions.year = options.year;
  if (options.weekStart !== undefined) parseOptions.weekStart = options.weekStart;
  if (options.weekEnd !== undefined) parseOptions.weekEnd = options.weekEnd;
  if (options.strict !== undefined) parseOptions.strict = options.strict;
  try {
    return parseIssue(input, parseOptions);
  } catch (err) {
    if (err instanceof IssueParseError) throw new ParseError(err.message, err.line ?? null, err.code);
    throw err;
  }
}

/** The editorial rules for the parsed edition; paths name the document's fields (["sections", "0", …]). */
function validateDocument(doc: IssueDocument, slug: string): void {
  if (!doc.weekStart || !doc.weekEnd) {
    throw new ValidationError('The week of the edition is unknown: give the year in the text or pass weekStart', [
      'weekStart',
    ]);
  }
  validate(importedIssueSchema, { ...doc, slug }, []);
}

/** What an import writes: the document's fields, its categories (created as needed) and its papers. */
async function issueWrite(db: Db, document: IssueDocument, warnings: ParseWarning[]): Promise<IssueWrite> {
  const categoryIds = await ensureCategories(
    db,
    document.sections.map((s) => ({ slug: slugify(s.categoryName), name: s.categoryName })),
  );
  return {
    title: document.title,
    subtitle: document.subtitle,
    weekStart: document.weekStart!,
    weekEnd: document.weekEnd!,
    intro: document.intro,
    outro: document.outro,
    asides: document.asides,
    // Stored as written, so that the export gives it back (entries matching nothing included).
    tableOfContents: document.tableOfContents,
    importWarnings: warnings.map((w) => ({ line: w.line, message: w.message })),
    sections: document.sections.map((s) => ({
      categoryId: categoryIds.get(slugify(s.categoryName))!,
      papers: s.papers.map((p) => ({
        id: null,
        title: p.title,
        summary: p.summary,
        url: p.url ?? null,
        arxivId: p.arxivId ?? null,
        numberAsWritten: p.numberAsWritten ?? null,
      })),
    })),
  };
}

/**
 * Replaces an existing edition in place: its own fields, and its papers
 * matched to the new ones (kept ids; see matchPapers), all in the caller's
 * transaction.
 */
async function replaceIssue(
  db: Db,
  existing: IssueRow,
  write: IssueWrite,
  publish: boolean,
): Promise<{ published: boolean; replaced: ReplaceCounts & { kept: number } }> {
  const { sections, ...fields } = write;
  const publishNow = publish && existing.status !== 'published';
  await updateIssueFields(db, existing.id, {
    ...fields,
    ...(publishNow ? { status: 'published' as const, publishedAt: new Date() } : {}),
  });
  const current = await currentPapers(db, existing.id);
  const incoming = sections.flatMap((s, i) => s.papers.map((p, j) => ({ ...p, number: `${i + 1}.${j + 1}` })));
  const ids = matchPapers(
    current.map((p) => ({ ...p, number: `${p.sectionNumber}.${p.position}` })),
    incoming.map((p) => ({ number: p.number, title: p.title, arxivId: p.arxivId ?? null })),
  );
  let k = 0;
  const matched = sections.map((s) => ({ ...s, papers: s.papers.map((p) => ({ ...p, id: ids[k++] ?? null })) }));
  const counts = await replaceIssueContent(db, existing.id, write.weekStart, matched);
  return { published: publishNow, replaced: { ...counts, kept: ids.filter((id) => id !== null).length } };
}

/**
 * Imports one edition: parse, check with the editorial rules, then write the
 * whole edition in ONE transaction (or nothing). An existing slug is a
 * ConflictError unless `replace` is set; then its sections and papers are
 * replaced atomically, papers that are still there keeping their ids. Every
 * import stores its warnings with the edition.
 */
export async function importIssueText(
  db: Db,
  input: string | Uint8Array,
  options: ImportOptions,
): Promise<ImportResult> {
  const { document, warnings } = parseForImport(input, options);
  const slug = options.slug ?? document.weekStart ?? '';
  validateDocument(document, slug);
  const paperCount = document.sections.reduce((n, s) => n + s.papers.length, 0);
  const result = { document, warnings, slug, paperCount };
  if (options.dryRun) return { ...result, issueId: null, created: false, published: false, replaced: null };

  return inTransaction(
    db,
    async (tx) => {
      const write = await issueWrite(tx, document, warnings);
      const existing = await lockIssueBySlug(tx, slug);
      if (existing) {
        if (!options.replace) {
          throw new ConflictError(`An edition with slug "${slug}" already exists; import with replace to overwrite it`);
        }
        const { published, replaced } = await replaceIssue(tx, existing, write, options.publish === true);
        if (published) await recordIssueEvent(tx, 'issue.published', existing.id);
        else await recordIssueEvent(tx, 'issue.updated', existing.id);
        return { ...result, issueId: existing.id, created: false, published, replaced };
      }
      const issueId = await insertIssueContent(tx, {
        slug,
        ...write,
        status: options.publish ? 'published' : 'draft',
        publishedAt: options.publish ? new Date() : null,
      });
      if (options.publish) await recordIssueEvent(tx, 'issue.published', issueId);
      return { ...result, issueId, created: true, published: Boolean(options.publish), replaced: null };
    },
    { statementTimeoutMs: IMPORT_STATEMENT_TIMEOUT_MS },
  );
}
