import { ISSUE } from '../../db/read-model/issue.js';
import type { PaperFilterArgs } from '../../db/queries/fragments.js';
import { countPapers, pagePapers, paperByNumber, paperKey } from '../../db/queries/papers.js';
import { PAPER } from '../../db/read-model/paper.js';
import { builder } from '../builder.js';
import { columnFields } from '../column-fields.js';
import type { Context } from '../context.js';
import { userInputError } from '../errors.js';
import { type ConnectionArgs, isoDate, paperCursor, toConnection, windowFromArgs } from '../pagination.js';
import { selectsPageInfo } from '../lookahead.js';
import { CategoryRef, IssueRef, PaperRef } from '../refs.js';
import type { PaperConnectionShape, PaperShape } from '../shapes.js';
import type { PaperRow } from '../../db/schema.js';
import { PaperFilter, PaperOrder } from './inputs.js';

/**
 * The whole row of a paper that a list read with some columns only (the lookahead gives lists what the selected
 * fields need, so this runs only for a field that does not declare what it reads).
 */
async function wholePaper(p: PaperShape, ctx: Context): Promise<PaperRow> {
  const row = await ctx.loaders.paperById.load(p.id);
  if (!row) throw new Error(`paper ${p.id} not found`);
  return row;
}

builder.node(PaperRef, {
  description: 'One numbered entry of an edition: a paper, its title and the newsletter’s summary of it.',
  // Rows are plain objects: tell the Node interface which type one is by its shape.
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'sectionNumber' in v && 'position' in v,
  id: { resolve: (p) => p.id },
  loadMany: (ids, ctx) => ids.map((id) => ctx.loaders.paperById.load(Number(id))),
  fields: (t) => ({
    number: t.string({
      description: 'Its number in the edition, "section.position": "2.3" is the third paper of section 2.',
      resolve: (p, _a, ctx) =>
        p.sectionNumber !== undefined && p.position !== undefined
          ? `${p.sectionNumber}.${p.position}`
          : wholePaper(p, ctx).then((row) => `${row.sectionNumber}.${row.position}`),
    }),
    numberAsWritten: t.string({
      nullable: true,
      description:
        'The number the imported text gave it, when that differs from `number` (a numbering gap: "2.1", "2.3" are stored ' +
        'as 2.1, 2.2, and the second keeps "2.3" here); `null` otherwise. It records the import: renumbering by editors ' +
        'leaves it as it is. `paper(issue, number)` also finds a paper by it when no paper has that number.',
      resolve: (p, _a, ctx) =>
        p.numberAsWritten !== undefined ? p.numberAsWritten : ctx.loaders.paperNumberAsWritten.load(p.id),
    }),
    summary: t.string({
      description: 'The newsletter’s summary, in Markdown (paragraphs and bullet lists).',
      resolve: (p, _a, ctx) => p.summary ?? ctx.loaders.paperSummary.load(p.id),
    }),
    // sectionNumber, position, title, url, arxivId, version, createdAt, updatedAt: as declared in the read model
    ...columnFields(t, PAPER.columns, (p: PaperShape, ctx: Context) => ctx.loaders.paperById.load(p.id)),
    issue: t.field({
      type: IssueRef,
      description: 'The edition it appeared in.',
      resolve: async (p, _a, ctx) => {
        // A paper of a page may carry its edition (see IssueMode): no loader, no promise.
        if (p.edition) return p.edition;
        const issue = await ctx.loaders.issueById.load(p.issueId ?? (await wholePaper(p, ctx)).issueId);
        if (!issue) throw new Error(`paper ${p.id} has no visible issue`);
        return issue;
      },
    }),
    category: t.field({
      type: CategoryRef,
      description: 'The category of the section it is in.',
      resolve: async (p, _a, ctx) => {
        const category = await ctx.loaders.categoryById.load(p.categoryId ?? (await wholePaper(p, ctx)).categoryId);
        if (!category) throw new Error(`paper ${p.id} has no category`);
        return category;
      },
    }),
  }),
});

export const PaperConnection = builder.connectionObject(
  {
    type: PaperRef,
    name: 'PaperConnection',
    description: 'A page of papers.',
    fields: (t) => ({
      totalCount: t.int({
        description: 'Number of papers in the whole list (all pages), with the same filter.',
        resolve: (conn) => (conn as unknown as PaperConnectionShape).totalCount(),
      }),
    }),
  },
  { name: 'PaperEdge', description: 'A paper in a page, with its cursor.' },
);

const MAX_FILTER_SLUGS = 50;
const MAX_SLUG_LENGTH = 200;

/** Checks a PaperFilter input and turns it into query arguments. */
export function paperFilterArgs(
  filter:
    | { categories?: string[] | null; issue?: string | null; weekFrom?: Date | null; weekTo?: Date | null }
    | null
    | undefined,
): PaperFilterArgs | undefined {
  if (!filter) return undefined;
  const slugs = filter.categories ?? null;
  if (slugs && slugs.length > MAX_FILTER_SLUGS) {
    throw userInputError(`\`filter.categories\` takes at most ${MAX_FILTER_SLUGS} slugs`, 'filter');
  }
  for (const s of [...(slugs ?? []), ...(filter.issue != null ? [filter.issue] : [])]) {
    if (s.length > MAX_SLUG_LENGTH || s.includes('\u0000'))
      throw userInputError('A slug in `filter` is not valid', 'filter');
  }
  return {
    categorySlugs: slugs,
    issueSlug: filter.issue ?? null,
    weekFrom: isoDate(filter.weekFrom),
    weekTo: isoDate(filter.weekTo),
  };
}

export type PaperListArgs = ConnectionArgs & {
  filter?: Parameters<typeof paperFilterArgs>[0];
  orderBy?: { field: 'WEEK'; direction: 'ASC' | 'DESC' } | null;
};

builder.queryFields((t) => ({
  papers: t.field({
    type: PaperConnection,
    description: 'Papers across the whole archive, newest edition first by default.',
    args: {
      ...t.arg.connectionArgs(),
      filter: t.arg({ type: PaperFilter, description: 'Restrict the list.' }),
      orderBy: t.arg({
        type: PaperOrder,
        description: 'Order of the list; default: `{ field: WEEK, direction: DESC }`.',
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      const window = windowFromArgs(args, args.orderBy?.direction ?? 'DESC', paperCursor, selectsPageInfo(info));
      const filter = paperFilterArgs(args.filter);
      const vis = { drafts: ctx.viewer.canSeeDrafts };
      const rows = await pagePapers(ctx.db, filter, window, vis);
      for (const r of rows) ctx.loaders.paperById.prime(r.id, r);
      return toConnection(rows, window, paperCursor, paperKey, () => countPapers(ctx.db, filter, vis));
    },
  }),
  paper: t.field({
    type: PaperRef,
    nullable: true,
    description:
      'A paper by its edition and number, e.g. `paper(issue: "2025-05-05", number: "2.3")`. When no paper has that number, ' +
      'the paper the imported text numbered so (see `Paper.numberAsWritten`; its `number` then differs). `null` when there is none.',
    args: {
      issue: t.arg.string({ required: true, description: 'Slug of the edition.' }),
      number: t.arg.string({ required: true, description: 'Number of the paper in the edition, e.g. "2.3".' }),
    },
    resolve: async (_root, args, ctx) => {
      const match = /^([1-9][0-9]{0,2})\.([1-9][0-9]{0,2})$/.exec(args.number);
      if (!match) throw userInputError('`number` must look like "2.3": section number, dot, position', 'number');
      if (args.issue.length > MAX_SLUG_LENGTH || args.issue.includes('\u0000')) return null;
      const found = await paperByNumber(ctx.db, args.issue, Number(match[1]), Number(match[2]), {
        drafts: ctx.viewer.canSeeDrafts,
      });
      if (!found) return null;
      // The edition and category came with the paper: its fields then read them without a statement.
      ctx.loaders.paperById.prime(found.paper.id, found.paper);
      if (ISSUE.isComplete(found.issue)) ctx.loaders.issueById.prime(found.issue.id, found.issue);
      ctx.loaders.categoryById.prime(found.category.id, found.category);
      return found.paper;
    },
  }),
}));
