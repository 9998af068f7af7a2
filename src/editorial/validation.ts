import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { isCanonicalArxivId } from '../newsletter/arxiv.js';
import { DATE_RANGE, isIsoDateInRange } from '../newsletter/dates.js';
import { slugify } from '../newsletter/slug.js';

// Rules for everything editors write, through the mutations or an import. Each
// failure becomes a ValidationError whose `path` names the input field
// (["input", "title"]), or for an imported edition the document's field
// (["sections", "0", "papers", "2", "title"]).

/** Text that PostgreSQL can store and that reads back identically: no NUL, no lone surrogates. */
function storableText(max: number, opts: { required?: boolean } = {}) {
  let s = z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters')
    .refine((v) => v.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');
  if (opts.required) s = s.refine((v) => v.trim().length > 0, 'must not be empty');
  return s;
}

export const LIMITS = {
  title: 500,
  subtitle: 1_000,
  intro: 20_000,
  outro: 20_000,
  summary: 20_000,
  categoryName: 200,
  description: 2_000,
  slug: 100,
  url: 2_000,
} as const;

export const slugSchema = z
  .string()
  .max(LIMITS.slug, `must be at most ${LIMITS.slug} characters`)
  .regex(
    /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
    'must be lowercase letters and digits separated by single dashes, e.g. "llm-reasoning"',
  );

/** New-style arXiv ids (2505.03335) and old-style ones (hep-th/9901001), without version. */
export const arxivIdSchema = z
  .string()
  .refine(isCanonicalArxivId, 'must be an arXiv id without version, e.g. "2505.03335"');

export const urlSchema = z
  .string()
  .max(LIMITS.url, `must be at most ${LIMITS.url} characters`)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

export const text = {
  title: storableText(LIMITS.title, { required: true }),
  subtitle: storableText(LIMITS.subtitle),
  intro: storableText(LIMITS.intro),
  outro: storableText(LIMITS.outro),
  summary: storableText(LIMITS.summary),
  categoryName: storableText(LIMITS.categoryName, { required: true }),
  description: storableText(LIMITS.description),
};

/** A date written YYYY-MM-DD within the range the archive stores. */
export const isoDateSchema = z
  .string()
  .refine(isIsoDateInRange, `must be a date from ${DATE_RANGE.min} to ${DATE_RANGE.max}`);

export const versionSchema = z.number().int().min(1, 'must be the version you read (1 or more)');
export const positionSchema = z.number().int().min(1, 'must be 1 or more').max(999, 'must be at most 999');

/**
 * Parses `value` with `schema`, or throws a ValidationError naming the first
 * bad field: `path` is `basePath` and the field's path inside `value`.
 */
export function validate<T>(schema: z.ZodType<T>, value: unknown, basePath: string[] = ['input']): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String);
  const path = [...basePath, ...field];
  throw new ValidationError(`${field.join('.') || path.join('.') || 'value'} ${issue.message}`, path);
}

/** A Date scalar value as YYYY-MM-DD. */
export function dateString(value: Date): string {
  return value.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- an imported edition

const importedPaper = z.object({ title: text.title, summary: text.summary });

const importedSection = z.object({
  categoryName: text.categoryName.refine((name) => slugify(name) !== '', 'must contain a letter or a digit'),
  papers: z.array(importedPaper).max(999, 'must be at most 999 papers'),
});

/**
 * An edition as an import stores it, with the rules the mutations apply to
 * the same fields; besides, each category appears in one section only. (A
 * week the text does not name is reported by the importer before this.)
 */
export const importedIssueSchema = z
  .object({
    slug: slugSchema,
    weekStart: isoDateSchema,
    weekEnd: isoDateSchema,
    title: text.title,
    subtitle: text.subtitle,
    intro: text.intro,
    outro: text.outro,
    sections: z.array(importedSection).min(1, 'must have a numbered section').max(999, 'must be at most 999 sections'),
  })
  .refine((v) => v.weekStart <= v.weekEnd, { message: 'must not be before weekStart', path: ['weekEnd'] })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.sections.forEach((s, i) => {
      const key = slugify(s.categoryName);
      if (seen.has(key)) {
        const message = `"${s.categoryName}" appears in two sections`;
        ctx.addIssue({ code: 'custom', message, path: ['sections', i, 'categoryName'] });
      }
      seen.add(key);
    });
  });
