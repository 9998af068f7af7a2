import * as editorial from '../../editorial/service.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { builder } from '../builder.js';
import { afterWrite, idOf } from '../mutation-helpers.js';
import { CategoryRef } from '../refs.js';

const editor = { editor: true } as const;
const union = (what: string) => ({ description: `${what}, or why nothing was written.` });

const CategoryPayload = (name: string, description: string) =>
  builder.objectRef<{ categoryId: number }>(name).implement({
    description,
    fields: (t) => ({
      category: t.field({
        type: CategoryRef,
        description: 'The category after the change.',
        resolve: async (p, _a, ctx) => (await ctx.loaders.categoryById.load(p.categoryId))!,
      }),
    }),
  });

builder.mutationFields((t) => ({
  createCategory: t.field({
    type: CategoryPayload('CreateCategoryPayload', 'Result of `createCategory`.'),
    description: 'Creates a category. Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: builder.inputType('CreateCategoryInput', {
          description: 'A new category.',
          fields: (f) => ({
            slug: f.string({ required: true, description: 'Unique URL name, e.g. `llm-reasoning`.' }),
            name: f.string({ required: true, description: 'Display name (1–200 characters).' }),
            description: f.string({ description: 'What it covers (at most 2 000 characters).' }),
          }),
        }),
        required: true,
        description: 'The category.',
      }),
    },
    errors: { types: [ValidationError, ConflictError], union: union('The new category') },
    resolve: async (_r, { input }, ctx) => {
      const category = await editorial.createCategory(ctx.db, {
        ...input,
        description: input.description ?? undefined,
      });
      await afterWrite(ctx, { updatedIssueIds: [], publishedIssueIds: [] });
      return { categoryId: category.id };
    },
  }),
  updateCategory: t.field({
    type: CategoryPayload('UpdateCategoryPayload', 'Result of `updateCategory`.'),
    description: 'Renames or describes a category; its old slug keeps resolving. Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: builder.inputType('UpdateCategoryInput', {
          description: 'Changes to a category; omitted fields stay as they are.',
          fields: (f) => ({
            id: f.id({ required: true, description: 'The category.' }),
            slug: f.string({ description: 'New slug (the old one keeps resolving).' }),
            name: f.string({ description: 'New name.' }),
            description: f.string({ description: 'New description.' }),
          }),
        }),
        required: true,
        description: 'The changes.',
      }),
    },
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: union('The changed category') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Category', ['input', 'id']);
      const { category, changes } = await editorial.updateCategory(ctx.db, { ...input, id });
      await afterWrite(ctx, changes);
      return { categoryId: category.id };
    },
  }),
  mergeCategories: t.field({
    type: CategoryPayload('MergeCategoriesPayload', 'Result of `mergeCategories`.'),
    description:
      'Moves every paper of `source` into `target` and deletes `source`; its slug keeps resolving to `target`. Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: builder.inputType('MergeCategoriesInput', {
          description: 'Which category goes into which.',
          fields: (f) => ({
            sourceId: f.id({ required: true, description: 'The category to merge away.' }),
            targetId: f.id({ required: true, description: 'The category that receives its papers.' }),
          }),
        }),
        required: true,
        description: 'The merge.',
      }),
    },
    errors: { types: [ValidationError, NotFoundError, ConflictError], union: union('The merged category') },
    resolve: async (_r, { input }, ctx) => {
      const sourceId = idOf(input.sourceId, 'Category', ['input', 'sourceId']);
      const targetId = idOf(input.targetId, 'Category', ['input', 'targetId']);
      const { category, changes } = await editorial.mergeCategories(ctx.db, { sourceId, targetId });
      await afterWrite(ctx, changes);
      return { categoryId: category.id };
    },
  }),
}));
