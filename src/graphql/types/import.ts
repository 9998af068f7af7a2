import { issuesByIds } from '../../db/queries/issues.js';
import { ValidationError, ConflictError, ParseError } from '../../errors.js';
import { type ImportResult, importIssueText } from '../../editorial/service.js';
import { slugify } from '../../newsletter/slug.js';
import type { IssuePaper, IssueSection } from '../../newsletter/types.js';
import { builder } from '../builder.js';
import { isoDate } from '../pagination.js';
import { afterWrite } from '../mutation-helpers.js';
import { IssueRef } from '../refs.js';

/** Longest edition text accepted (characters). */
export const MAX_IMPORT_TEXT = 900_000;

const ImportFormat = builder.enumType('ImportFormat', {
  description: 'Format of an edition’s text.',
  values: {
    PLAIN_TEXT: { value: 'text', description: 'The plain text the newsletter is published as.' },
    MARKDOWN: { value: 'markdown', description: 'The Markdown export format (`Issue.markdown`).' },
  },
});

export const ImportWarning = builder.objectRef<{ line: number; message: string }>('ImportWarning').implement({
  description: 'Something in the text that was accepted but looks wrong, with its line.',
  fields: (t) => ({
    line: t.exposeInt('line', { description: '1-based line of the input.' }),
    message: t.exposeString('message', { description: 'What looks wrong.' }),
  }),
});

const PreviewPaper = builder.objectRef<IssuePaper>('ImportPreviewPaper').implement({
  description: 'A paper as parsed from the text.',
  fields: (t) => ({
    number: t.exposeString('number', {
      description:
        'Number it is (or would be) stored under, e.g. "2.3": papers are numbered by their place in their section.',
    }),
    numberAsWritten: t.string({
      nullable: true,
      description:
        'The number the text gave it when that differs from `number` (a numbering gap, with a warning); `null` otherwise.',
      resolve: (p) => p.numberAsWritten ?? null,
    }),
    title: t.exposeString('title', { description: 'Title.' }),
    summary: t.exposeString('summary', { description: 'Summary, in Markdown.' }),
    url: t.string({ nullable: true, description: 'Link, when the text gives one.', resolve: (p) => p.url ?? null }),
    arxivId: t.string({
      nullable: true,
      description: 'arXiv id, when the text gives one.',
      resolve: (p) => p.arxivId ?? null,
    }),
  }),
});

const PreviewSection = builder.objectRef<IssueSection>('ImportPreviewSection').implement({
  description: 'A numbered section as parsed from the text.',
  fields: (t) => ({
    number: t.exposeInt('number', {
      description: 'Section number it is (or would be) stored under: its place in the edition.',
    }),
    categoryName: t.exposeString('categoryName', { description: 'Category name as written.' }),
    categorySlug: t.string({
      description: 'Slug the category is matched by (an existing category with this slug is reused).',
      resolve: (s) => slugify(s.categoryName),
    }),
    papers: t.field({ type: [PreviewPaper], description: 'Its papers, in order.', resolve: (s) => s.papers }),
  }),
});

const ImportPreview = builder.objectRef<ImportResult>('ImportPreview').implement({
  description: 'The edition as the importer understood it.',
  fields: (t) => ({
    slug: t.exposeString('slug', { description: 'Slug it is (or would be) stored under.' }),
    title: t.string({ description: 'Title line.', resolve: (r) => r.document.title }),
    subtitle: t.string({ description: 'Subtitle.', resolve: (r) => r.document.subtitle }),
    weekStart: t.field({
      type: 'Date',
      nullable: true,
      description: 'First day of the week.',
      resolve: (r) => r.document.weekStart,
    }),
    weekEnd: t.field({
      type: 'Date',
      nullable: true,
      description: 'Last day of the week.',
      resolve: (r) => r.document.weekEnd,
    }),
    intro: t.string({ description: 'Introduction, in Markdown.', resolve: (r) => r.document.intro }),
    outro: t.string({ description: 'Outro, in Markdown.', resolve: (r) => r.document.outro }),
    tableOfContents: t.stringList({
      description: 'Table of contents as written.',
      resolve: (r) => r.document.tableOfContents,
    }),
    sections: t.field({
      type: [PreviewSection],
      description: 'Numbered sections, in order.',
      resolve: (r) => r.document.sections,
    }),
    paperCount: t.exposeInt('paperCount', { description: 'Number of papers.' }),
  }),
});

const ImportIssuePayload = builder.objectRef<ImportResult & { dryRun: boolean }>('ImportIssuePayload').implement({
  description: 'Result of `importIssue`.',
  fields: (t) => ({
    issue: t.field({
      type: IssueRef,
      nullable: true,
      description: 'The stored edition; `null` in a dry run.',
      resolve: async (r, _a, ctx) => {
        if (r.issueId === null) return null;
        const [row] = await issuesByIds(ctx.db, [r.issueId], { drafts: true });
        return row ?? null;
      },
    }),
    preview: t.field({ type: ImportPreview, description: 'What was parsed.', resolve: (r) => r }),
    warnings: t.field({
      type: [ImportWarning],
      description: 'Accepted oddities, with their lines.',
      resolve: (r) => r.warnings,
    }),
    created: t.exposeBoolean('created', {
      description: 'True when a new edition was created (false when replaced or in a dry run).',
    }),
    dryRun: t.exposeBoolean('dryRun', { description: 'True when nothing was written.' }),
  }),
});

const ImportIssueInput = builder.inputType('ImportIssueInput', {
  description: 'An edition’s text and how to import it.',
  fields: (t) => ({
    text: t.string({ required: true, description: `The whole edition (at most ${MAX_IMPORT_TEXT} characters).` }),
    format: t.field({ type: ImportFormat, defaultValue: 'text', description: 'Format of `text`; default PLAIN_TEXT.' }),
    dryRun: t.boolean({ defaultValue: false, description: 'Parse and check only; write nothing.' }),
    publish: t.boolean({ defaultValue: false, description: 'Publish at once (default: store as a draft).' }),
    weekStart: t.field({
      type: 'Date',
      description: 'Override the first day of the week (the text’s dates are then ignored).',
    }),
    weekEnd: t.field({ type: 'Date', description: 'Override the last day of the week (default: weekStart + 6 days).' }),
    year: t.int({ description: 'Year for "DD/MM" dates when the text names none.' }),
    replace: t.boolean({
      defaultValue: false,
      description:
        'Replace the sections and papers of an existing edition with the same slug (otherwise a ConflictError). Papers that ' +
        'are still there keep their IDs (matched by arXiv id, else number and title, else title) and get a new `version` ' +
        'when something of theirs changed.',
    }),
    strict: t.boolean({ defaultValue: false, description: 'Numbering problems are errors instead of warnings.' }),
    slug: t.string({
      description: 'Slug to store the edition under; default: its week start date, e.g. `2025-05-05`.',
    }),
  }),
});

builder.mutationFields((t) => ({
  importIssue: t.field({
    type: ImportIssuePayload,
    description:
      'Imports an edition from its text (plain text or Markdown) in one transaction: all of it or nothing. ' +
      'Re-importing an existing slug needs `replace`. Needs an editor token.',
    authScopes: { editor: true },
    args: { input: t.arg({ type: ImportIssueInput, required: true, description: 'What to import.' }) },
    errors: {
      types: [ValidationError, ParseError, ConflictError],
      union: { description: 'The import payload, or why nothing was written.' },
    },
    resolve: async (_root, { input }, ctx) => {
      if (input.text.length > MAX_IMPORT_TEXT) {
        throw new ValidationError(`text is longer than ${MAX_IMPORT_TEXT} characters`, ['input', 'text']);
      }
      if (input.year != null && (input.year < 1900 || input.year > 2999)) {
        throw new ValidationError('year must be between 1900 and 2999', ['input', 'year']);
      }
      const result = await importIssueText(ctx.db, input.text, {
        format: input.format ?? 'text',
        dryRun: input.dryRun ?? false,
        publish: input.publish ?? false,
        replace: input.replace ?? false,
        strict: input.strict ?? false,
        ...(input.weekStart ? { weekStart: isoDate(input.weekStart)! } : {}),
        ...(input.weekEnd ? { weekEnd: isoDate(input.weekEnd)! } : {}),
        ...(input.year != null ? { year: input.year } : {}),
        ...(input.slug != null ? { slug: input.slug } : {}),
      });
      // Later fields of this request see the new data; subscribers and the cache hear of it.
      if (result.issueId !== null) {
        await afterWrite(ctx, {
          updatedIssueIds: [result.issueId],
          publishedIssueIds: result.published ? [result.issueId] : [],
        });
      }
      return { ...result, dryRun: input.dryRun ?? false };
    },
  }),
}));
