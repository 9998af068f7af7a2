import { type GraphQLObjectType, type GraphQLResolveInfo, getArgumentValues } from 'graphql';
import { categoriesWithPages, paperKey } from '../../db/queries/papers.js';
import { allCategories } from '../../db/queries/categories.js';
import { builder } from '../builder.js';
import { childFieldNodes, paperColumnsFor, paperIssueMode, selectsPageInfo } from '../lookahead.js';
import { paperCursor, toConnection, windowFromArgs } from '../pagination.js';
import { CategoryRef } from '../refs.js';
import type { PaperShape } from '../shapes.js';
import { PaperFilter, PaperOrder } from './inputs.js';
import { PaperConnection, type PaperListArgs, paperFilterArgs } from './paper.js';

builder.node(CategoryRef, {
  description: 'A recurring section of the newsletter, such as "LLM Reasoning".',
  // Rows are plain objects: tell the Node interface which type one is by its shape.
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'slug' in v && 'name' in v && !('weekEnd' in v),
  id: { resolve: (c) => c.id },
  loadMany: (ids, ctx) => ids.map((id) => ctx.loaders.categoryById.load(Number(id))),
  fields: (t) => ({
    slug: t.exposeString('slug', { description: 'URL-friendly unique name, e.g. `llm-reasoning`.' }),
    name: t.exposeString('name', { description: 'Display name, e.g. "LLM Reasoning".' }),
    description: t.exposeString('description', { description: 'What the category covers (may be empty).' }),
    papers: t.field({
      type: PaperConnection,
      description: 'Papers of this category across all editions, newest edition first by default.',
      args: {
        ...t.arg.connectionArgs(),
        filter: t.arg({ type: PaperFilter, description: 'Further restrict the list (combined with this category).' }),
        orderBy: t.arg({ type: PaperOrder, description: 'Order; default `{ field: WEEK, direction: DESC }`.' }),
      },
      resolve: async (category, args, ctx, info) => {
        const window = windowFromArgs(args, args.orderBy?.direction ?? 'DESC', paperCursor, selectsPageInfo(info));
        const filter = paperFilterArgs(args.filter);
        const rows = await ctx.loaders
          .papersPage('category', filter, window, paperIssueMode(info), paperColumnsFor(info))
          .load(category.id);
        return toConnection(rows, window, paperCursor, paperKey, () =>
          ctx.loaders.papersCount('category', filter).load(category.id),
        );
      },
    }),
    paperCount: t.int({
      description: 'Number of papers in this category across all (visible) editions.',
      resolve: (category, _a, ctx) => ctx.loaders.papersCount('category', undefined).load(category.id),
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the category was created.',
      resolve: (c) => c.createdAt,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'When the category was last changed.',
      resolve: (c) => c.updatedAt,
    }),
  }),
});

/**
 * The page that each category's `papers` field below `Query.categories` will
 * ask for (its arguments, read the way its resolver gets them), or null when
 * there is none or its arguments are not valid (its resolver reports that).
 */
function papersPageAhead(info: GraphQLResolveInfo) {
  const nodes = childFieldNodes(info, 'papers');
  const first = nodes[0];
  if (!first) return null;
  const field = (info.schema.getType('Category') as GraphQLObjectType).getFields().papers;
  if (!field) return null;
  try {
    const args = getArgumentValues(field, first, info.variableValues) as PaperListArgs;
    const below = { fieldNodes: nodes, fragments: info.fragments };
    const window = windowFromArgs(args, args.orderBy?.direction ?? 'DESC', paperCursor, selectsPageInfo(below));
    const filter = paperFilterArgs(args.filter);
    return { window, filter, issues: paperIssueMode(below), columns: paperColumnsFor(below) };
  } catch {
    return null;
  }
}

builder.queryFields((t) => ({
  categories: t.field({
    type: [CategoryRef],
    description: 'Every category, alphabetically by name.',
    resolve: async (_root, _args, ctx, info) => {
      // The usual category listing asks for a page of each category's papers:
      // fetch the categories, those pages and (when selected) the papers'
      // editions in one statement, and hand the pages to Category.papers.
      const listing = papersPageAhead(info);
      if (listing) {
        const vis = { drafts: ctx.viewer.canSeeDrafts };
        const { categories, papers, issues } = await categoriesWithPages(ctx.db, listing.filter, listing.window, vis, {
          issues: listing.issues,
          columns: listing.columns,
        });
        const loader = ctx.loaders.papersPage(
          'category',
          listing.filter,
          listing.window,
          listing.issues,
          listing.columns,
        );
        const byCategory = new Map<number, PaperShape[]>(categories.map((c) => [c.id, []]));
        for (const p of papers) byCategory.get(p.parentId)?.push(p);
        for (const [id, page] of byCategory) loader.prime(id, page);
        for (const issue of issues) ctx.loaders.issueById.prime(issue.id, issue);
        for (const c of categories) ctx.loaders.categoryById.prime(c.id, c);
        return categories;
      }
      const rows = await allCategories(ctx.db);
      for (const r of rows) ctx.loaders.categoryById.prime(r.id, r);
      return rows;
    },
  }),
  category: t.field({
    type: CategoryRef,
    nullable: true,
    description: 'A category by its slug; `null` when there is none.',
    args: { slug: t.arg.string({ required: true, description: 'The category’s slug, e.g. `llm-reasoning`.' }) },
    resolve: (_root, args, ctx) =>
      args.slug.length > 200 || args.slug.includes('\u0000') ? null : ctx.loaders.categoryBySlug.load(args.slug),
  }),
}));
