import { type Db, IMPORT_STATEMENT_TIMEOUT_MS, setLocalStatementTimeout } from '../db/client.js';
import { classifyDbError } from '../db/errors.js';
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
import { matchPapers } from './match.js';
import { DATE_RANGE, isIsoDateInRange } from './dates.js';
import { IssueParseError, parseIssue } from './parse.js';
import { slugify } from './slug.js';
import type { IssueDocument, ParseWarning } from './types.js';

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
type IssueWrite = Omit<IssueContentInput, 'slug' | 'status' | 'publishedAt' | 'sections'> & { sections: ReplacingSection[] };

const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const LIMITS = { title: 500, subtitle: 1000, summary: 20_000, intro: 20_000, outro: 20_000, category: 200 };

/** Parses edition text, mapping parser failures to a ParseError (with the line). */
export function parseForImport(
  input: string | Uint8Array,
  options: ImportOptions,
): { document: IssueDocument; warnings: ParseWarning[] } {
  for (const field of ['weekStart', 'weekEnd'] as const) {
    const value = options[field];
    if (value !== undefined && !isIsoDateInRange(value)) {
      throw new ValidationError(`${field} must be a date from ${DATE_RANGE.min} to ${DATE_RANGE.max}`, [field]);
    }
  }
  try {
    const { document, warnings } = parseIssue(input, {
      format: options.format,
      ...(options.year !== undefined ? { year: options.year } : {}),
      ...(options.weekStart !== undefined ? { weekStart: options.weekStart } : {}),
      ...(options.weekEnd !== undefined ? { weekEnd: options.weekEnd } : {}),
      ...(options.strict !== undefined ? { strict: options.strict } : {}),
    });
    return { document, warnings };
  } catch (err) {
    if (err instanceof IssueParseError) throw new ParseError(err.message, err.line ?? null, err.code);
    throw err;
  }
}

/** Rules the database would otherwise enforce less clearly. */
function validateDocument(doc: IssueDocument, slug: string): void {
  if (!doc.weekStart || !doc.weekEnd) {
    throw new ValidationError('The week of the edition is unknown: give the year in the text or pass weekStart', ['weekStart']);
  }
  if (!SLUG_RE.test(slug) || slug.length > 100) {
    throw new ValidationError(`"${slug.slice(0, 100)}" is not a valid slug (lowercase letters, digits and single dashes)`, ['slug']);
  }
  for (const field of ['weekStart', 'weekEnd'] as const) {
    // (a week computed from a start near the end of the range can end past it)
    if (!isIsoDateInRange(doc[field]!)) {
      throw new ValidationError(`The week must lie between ${DATE_RANGE.min} and ${DATE_RANGE.max}`, [field]);
    }
  }
  if (doc.weekStart > doc.weekEnd) throw new ValidationError('The week ends before it starts', ['weekEnd']);
  if (doc.title.trim() === '') throw new ValidationError('The edition has no title', ['title']);
  const check = (value: string, max: number, path: string[]) => {
    if (value.length > max) throw new ValidationError(`${path.join('.')} is longer than ${max} characters`, path);
  };
  check(doc.title, LIMITS.title, ['title']);
  check(doc.subtitle, LIMITS.subtitle, ['subtitle']);
  check(doc.intro, LIMITS.intro, ['intro']);
  check(doc.outro, LIMITS.outro, ['outro']);
  if (doc.sections.length === 0) throw new ValidationError('The edition has no numbered section', ['sections']);
  if (doc.sections.length > 999) throw new ValidationError('An edition has at most 999 sections', ['sections']);
  const seen = new Set<string>();
  doc.sections.forEach((s, i) => {
    const slug = slugify(s.categoryName);
    if (!slug) throw new ValidationError(`Section ${s.number} has no category name`, ['sections', String(i), 'categoryName']);
    if (seen.has(slug)) {
      throw new ValidationError(`Category "${s.categoryName}" appears in two sections`, ['sections', String(i), 'categoryName']);
    }
    seen.add(slug);
    check(s.categoryName, LIMITS.category, ['sections', String(i), 'categoryName']);
    if (s.papers.length > 999) throw new ValidationError('A section has at most 999 papers', ['sections', String(i)]);
    s.papers.forEach((p, j) => {
      const path = ['sections', String(i), 'papers', String(j)];
      if (p.title.trim() === '') throw new ValidationError(`Paper ${p.number} has no title`, [...path, 'title']);
      check(p.title, LIMITS.title, [...path, 'title']);
      check(p.summary, LIMITS.summary, [...path, 'summary']);
    });
  });
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
 * Imports one edition: parse, check, then write the whole edition in ONE
 * transaction (or nothing). An existing slug is a ConflictError unless
 * `replace` is set; then its sections and papers are replaced atomically,
 * papers that are still there keeping their ids. Every import stores its
 * warnings with the edition.
 */
export async function importIssueText(db: Db, input: string | Uint8Array, options: ImportOptions): Promise<ImportResult> {
  const { document, warnings } = parseForImport(input, options);
  const slug = options.slug ?? document.weekStart ?? '';
  validateDocument(document, slug);
  const paperCount = document.sections.reduce((n, s) => n + s.papers.length, 0);
  const result = { document, warnings, slug, paperCount };
  if (options.dryRun) return { ...result, issueId: null, created: false, published: false, replaced: null };

  try {
    return await db.transaction(async (tx) => {
      const txDb = tx as unknown as Db;
      await setLocalStatementTimeout(txDb, IMPORT_STATEMENT_TIMEOUT_MS);
      const write = await issueWrite(txDb, document, warnings);
      const existing = await lockIssueBySlug(txDb, slug);
      if (existing) {
        if (!options.replace) {
          throw new ConflictError(`An edition with slug "${slug}" already exists; import with replace to overwrite it`);
        }
        const { published, replaced } = await replaceIssue(txDb, existing, write, options.publish === true);
        return { ...result, issueId: existing.id, created: false, published, replaced };
      }
      const issueId = await insertIssueContent(txDb, {
        slug,
        ...write,
        status: options.publish ? 'published' : 'draft',
        publishedAt: options.publish ? new Date() : null,
      });
      return { ...result, issueId, created: true, published: Boolean(options.publish), replaced: null };
    });
  } catch (err) {
    const failure = classifyDbError(err);
    if (failure?.kind === 'unique') {
      throw new ConflictError(`An edition with slug "${slug}" was created at the same time; try again with replace`);
    }
    if (failure?.kind === 'invalid_text') throw new ValidationError('The text contains characters that cannot be stored');
    if (failure?.kind === 'invalid_datetime') throw new ValidationError('A date of the edition is not valid', ['weekStart']);
    throw err;
  }
}
