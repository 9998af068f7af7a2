import { isCanonicalArxivId } from '../newsletter/arxiv.js';
import { z } from 'zod';
import { ValidationError } from '../errors.js';

// Rules for everything editors write. Each failure becomes a ValidationError
// whose `path` names the input field (["input", "title"]).

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
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lowercase letters and digits separated by single dashes, e.g. "llm-reasoning"');

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

export const versionSchema = z.number().int().min(1, 'must be the version you read (1 or more)');
export const positionSchema = z.number().int().min(1, 'must be 1 or more').max(999, 'must be at most 999');

/** Parses `value` with `schema`, or throws a ValidationError naming the first bad field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, basePath: string[] = ['input']): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [...basePath, ...issue.path.map(String)];
  throw new ValidationError(`${path.slice(1).join('.') || path.join('.')} ${issue.message}`, path);
}

/** A Date scalar value as YYYY-MM-DD. */
export function dateString(value: Date): string {
  return value.toISOString().slice(0, 10);
}
