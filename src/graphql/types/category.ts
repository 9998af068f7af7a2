import { paperKey } from '../../db/queries/papers.js';
import { allCategories } from '../../db/queries/categories.js';
import { builder } from '../builder.js';
import { paperCursor, toConnection, windowFromArgs } from '../pagination.js';
import { CategoryRef } from '../refs.js';
import { PaperFilter, PaperOrder } from './inputs.js';
import { PaperConnection, paperFilterArgs } from './paper.js';

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
      resolve: async (category, args, ctx) => {
        const window = windowFromArgs(args, args.orderBy?.direction ?? 'DESC', paperCursor);
        const filter = paperFilterArgs(args.filter);
        const rows = await ctx.loaders.papersPage('category', filter, window).load(category.id);
        return toConnection(rows, window, paperCursor, paperKey, () =>
          ctx.loaders.papersCount('category', filter).load(category.id),
        );
      },
    }),
    paperCount: t.int({
      description: 'Number of papers in this category across all (visible) editions.',
      resolve: (category, _a, ctx) => ctx.loaders.papersCount('category', undefined).load(category.id),
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When the category was created.', resolve: (c) => c.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When the category was last changed.', resolve: (c) => c.updatedAt }),
  }),
});

builder.queryFields((t) => ({
  categories: t.field({
    type: [CategoryRef],
    description: 'Every category, alphabetically by name.',
    resolve: async (_root, _args, ctx) => {
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
