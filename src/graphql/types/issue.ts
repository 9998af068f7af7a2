import { countIssues, latestIssue, pageIssues } from '../../db/queries/issues.js';
import { paperKey } from '../../db/queries/papers.js';
import { ISSUE } from '../../db/read-model/issue.js';
import { isSliceOf } from '../../db/read-model/model.js';
import { PAPER } from '../../db/read-model/paper.js';
import type { IssueRow, PaperRow } from '../../db/schema.js';
import { documentFromRows } from '../../newsletter/document.js';
import { renderMarkdown } from '../../newsletter/markdown.js';
import { builder } from '../builder.js';
import { columnFields, columnOf } from '../column-fields.js';
import type { Context } from '../context.js';
import { paperColumnsFor, sectionPaperColumnsFor, selectsPageInfo } from '../lookahead.js';
import { issueCursor, isoDate, paperCursor, toConnection, windowFromArgs } from '../pagination.js';
import { IssueRef, SectionRef } from '../refs.js';
import type { IssueConnectionShape, IssueShape } from '../shapes.js';
import { IssueFilter, IssueOrder, IssueStatusEnum, PaperFilter, PaperOrder } from './inputs.js';
import { ImportWarning } from './import.js';
import { PaperConnection, paperFilterArgs } from './paper.js';

const AsideRef = builder.objectRef<{ title: string; body: string }>('Aside').implement({
  description: 'A block of an edition that is not a numbered section, such as an announcement.',
  fields: (t) => ({
    title: t.exposeString('title', { description: 'Heading of the block.' }),
    body: t.exposeString('body', { description: 'Text of the block, in Markdown.' }),
  }),
});

/** The whole row of an edition that may be a slice (see IssueMode). */
const wholeIssue = (i: IssueShape, ctx: Context) => ctx.loaders.issueById.load(i.id);

builder.node(IssueRef, {
  description: 'One weekly edition of the newsletter: an introduction, numbered sections of papers and an outro.',
  // Rows are plain objects: tell the Node interface which type one is by its shape.
  isTypeOf: (v) =>
    typeof v === 'object' && v !== null && (isSliceOf(v, ISSUE.name) || ('weekEnd' in v && 'asides' in v)),
  id: { resolve: (i) => i.id },
  loadMany: (ids, ctx) => ids.map((id) => ctx.loaders.issueById.load(Number(id))),
  fields: (t) => ({
    // slug, title, subtitle, weekStart, weekEnd, intro, outro, publishedAt, version, createdAt, updatedAt: as declared
    ...columnFields(t, ISSUE.columns, wholeIssue),
    asides: t.field({
      type: [AsideRef],
      description: 'Blocks listed in the table of contents that are not numbered sections.',
      resolve: (i, _a, ctx) => columnOf(i, 'asides', () => wholeIssue(i, ctx)),
    }),
    status: t.field({
      type: IssueStatusEnum,
      description: 'Draft or published.',
      resolve: (i, _a, ctx) => columnOf(i, 'status', () => wholeIssue(i, ctx)),
    }),
    sections: t.field({
      type: [SectionRef],
      description: 'The numbered sections, in order, each with its category and papers.',
      // Only the papers' columns selected below are fetched (see PaperColumns).
      resolve: (i, _a, ctx, info) => ctx.loaders.sectionsOf(sectionPaperColumnsFor(info)).load(i.id),
    }),
    papers: t.field({
      type: PaperConnection,
      description: 'The papers of the edition as one list, in number order (1.1, 1.2, 2.1, …).',
      args: {
        ...t.arg.connectionArgs(),
        filter: t.arg({ type: PaperFilter, description: 'Further restrict the list (combined with this edition).' }),
        orderBy: t.arg({ type: PaperOrder, description: 'Order; inside one edition both directions list by number.' }),
      },
      resolve: async (issue, args, ctx, info) => {
        const window = windowFromArgs(args, args.orderBy?.direction ?? 'DESC', paperCursor, selectsPageInfo(info));
        const filter = paperFilterArgs(args.filter);
        const rows = await ctx.loaders
          .papersPage('issue', filter, window, 'none', paperColumnsFor(info))
          .load(issue.id);
        return toConnection(rows, window, paperCursor, paperKey, () =>
          ctx.loaders.papersCount('issue', filter).load(issue.id),
        );
      },
    }),
    markdown: t.string({
      description:
        'The whole edition in the Markdown export format: importing it again gives the same edition. Also served at `/issues/{slug}.md`.',
      resolve: async (slice, _a, ctx) => {
        const i = ISSUE.isComplete(slice) ? slice : await wholeIssue(slice, ctx);
        if (!i) throw new Error(`issue ${slice.id} not found`);
        const sections = await ctx.loaders.sectionsByIssueId.load(i.id);
        const withCategories = await Promise.all(
          sections.map(async (s) => ({
            ...s,
            category: s.category ?? (await ctx.loaders.categoryById.load(s.categoryId))!,
          })),
        );
        const listed = (
          await Promise.all(sections.map((s) => s.papers ?? ctx.loaders.papersBySectionId.load(s.id)))
        ).flat();
        const whole = await Promise.all(listed.map(async (p) => (PAPER.isComplete(p) ? p : wholePaper(p.id, ctx))));
        const papers = await Promise.all(
          whole.map(async (p) => ({
            ...p,
            summary: p.summary ?? (await ctx.loaders.paperSummary.load(p.id)),
            numberAsWritten:
              p.numberAsWritten !== undefined ? p.numberAsWritten : await ctx.loaders.paperNumberAsWritten.load(p.id),
          })),
        );
        return renderMarkdown(documentFromRows(i, withCategories, papers));
      },
    }),
    importWarnings: t.field({
      type: [ImportWarning],
      // Nullable: an anonymous reader gets null and a FORBIDDEN error for this field alone, not a null edition.
      nullable: true,
      description:
        'Warnings of the import that last wrote this edition (each import replaces them; empty for an edition made through ' +
        'the API), with their lines in the imported text. Needs an editor token: null with a FORBIDDEN error otherwise.',
      authScopes: { editor: true },
      resolve: (i, _a, ctx) => columnOf(i, 'importWarnings', () => wholeIssue(i, ctx)),
    }),
    paperCount: t.int({
      description: 'Number of papers in the edition.',
      resolve: (i, _a, ctx) => ctx.loaders.papersCount('issue', undefined).load(i.id),
    }),
  }),
});

export const IssueConnection = builder.connectionObject(
  {
    type: IssueRef,
    name: 'IssueConnection',
    description: 'A page of editions.',
    fields: (t) => ({
      totalCount: t.int({
        description: 'Number of editions in the whole list (all pages), with the same filter.',
        resolve: (conn) => (conn as unknown as IssueConnectionShape).totalCount(),
      }),
    }),
  },
  { name: 'IssueEdge', description: 'An edition in a page, with its cursor.' },
);

const issueKey = (i: IssueRow): [string, number] => [i.weekStart, i.id];

async function wholePaper(id: number, ctx: Context): Promise<PaperRow> {
  const paper = await ctx.loaders.paperById.load(id);
  if (!paper) throw new Error(`paper ${id} not found`);
  return paper;
}

builder.queryFields((t) => ({
  latestIssue: t.field({
    type: IssueRef,
    nullable: true,
    description: 'The edition with the most recent week; `null` when the archive is empty.',
    resolve: async (_root, _args, ctx) => {
      const issue = await latestIssue(ctx.db, { drafts: ctx.viewer.canSeeDrafts });
      if (issue) ctx.loaders.issueById.prime(issue.id, issue);
      return issue;
    },
  }),
  issue: t.field({
    type: IssueRef,
    nullable: true,
    description: 'An edition by its slug; `null` when there is none.',
    args: { slug: t.arg.string({ required: true, description: 'The edition’s slug, e.g. `2025-05-05`.' }) },
    resolve: (_root, args, ctx) =>
      args.slug.length > 200 || args.slug.includes('\u0000') ? null : ctx.loaders.issueBySlug.load(args.slug),
  }),
  issues: t.field({
    type: IssueConnection,
    description: 'Editions, newest week first by default.',
    args: {
      ...t.arg.connectionArgs(),
      filter: t.arg({ type: IssueFilter, description: 'Restrict the list.' }),
      orderBy: t.arg({ type: IssueOrder, description: 'Order; default `{ field: WEEK_START, direction: DESC }`.' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const window = windowFromArgs(args, args.orderBy?.direction ?? 'DESC', issueCursor, selectsPageInfo(info));
      const filter = {
        weekFrom: isoDate(args.filter?.weekFrom),
        weekTo: isoDate(args.filter?.weekTo),
        status: args.filter?.status ?? null,
      };
      const vis = { drafts: ctx.viewer.canSeeDrafts };
      const rows = await pageIssues(ctx.db, filter, window, vis);
      for (const r of rows) ctx.loaders.issueById.prime(r.id, r);
      return toConnection(rows, window, issueCursor, issueKey, () => countIssues(ctx.db, filter, vis));
    },
  }),
}));
