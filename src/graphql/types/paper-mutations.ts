import * as editorial from '../../editorial/service.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { builder } from '../builder.js';
import { encodeGlobalId } from '../global-id.js';
import { afterWrite, idOf } from '../mutation-helpers.js';
import { IssueRef, PaperRef } from '../refs.js';

const editor = { editor: true } as const;
const union = (what: string) => ({ description: `${what}, or why nothing was written.` });

const PaperPayload = (name: string, description: string) =>
  builder.objectRef<{ paperId: number; issueId: number }>(name).implement({
    description,
    fields: (t) => ({
      paper: t.field({
        type: PaperRef,
        description: 'The paper after the change (with its new number).',
        resolve: async (p, _a, ctx) => (await ctx.loaders.paperById.load(p.paperId))!,
      }),
      issue: t.field({
        type: IssueRef,
        description: 'Its edition after the change.',
        resolve: async (p, _a, ctx) => (await ctx.loaders.issueById.load(p.issueId))!,
      }),
    }),
  });

const AddPaperPayload = PaperPayload('AddPaperPayload', 'Result of `addPaper`.');
const UpdatePaperPayload = PaperPayload('UpdatePaperPayload', 'Result of `updatePaper`.');
const MovePaperPayload = PaperPayload('MovePaperPayload', 'Result of `movePaper`.');

const IssueOnlyPayload = (name: string, description: string) =>
  builder.objectRef<{ issueId: number }>(name).implement({
    description,
    fields: (t) => ({
      issue: t.field({
        type: IssueRef,
        description: 'The edition after the change.',
        resolve: async (p, _a, ctx) => (await ctx.loaders.issueById.load(p.issueId))!,
      }),
    }),
  });

const DeletePaperPayload = builder.objectRef<{ paperId: number; issueId: number }>('DeletePaperPayload').implement({
  description: 'Result of `deletePaper`.',
  fields: (t) => ({
    deletedPaperId: t.id({
      description: 'Global ID the deleted paper had.',
      resolve: (p) => encodeGlobalId('Paper', p.paperId),
    }),
    issue: t.field({
      type: IssueRef,
      description: 'Its edition after the change (the following papers are renumbered).',
      resolve: async (p, _a, ctx) => (await ctx.loaders.issueById.load(p.issueId))!,
    }),
  }),
});
const ReorderSectionsPayload = IssueOnlyPayload('ReorderSectionsPayload', 'Result of `reorderSections`.');

const AddPaperInput = builder.inputType('AddPaperInput', {
  description: 'A new paper in an edition.',
  fields: (t) => ({
    issueId: t.id({ required: true, description: 'The edition.' }),
    category: t.string({
      required: true,
      description:
        'Slug of its category: it joins that category’s section (a new last section when the edition has none).',
    }),
    position: t.int({ description: 'Position in the section, 1 = first (default: last). Later papers move down.' }),
    title: t.string({ required: true, description: 'Title (1–500 characters).' }),
    summary: t.string({ description: 'Summary, Markdown (at most 20 000 characters).' }),
    url: t.string({ description: 'Absolute http(s) link to the paper.' }),
    arxivId: t.string({ description: 'arXiv id without version, e.g. `2505.03335`.' }),
  }),
});

const UpdatePaperInput = builder.inputType('UpdatePaperInput', {
  description: 'Changes to a paper; omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The paper.' }),
    version: t.int({
      required: true,
      description: 'The `version` you read: a stale version is a ConflictError and nothing is written.',
    }),
    title: t.string({ description: 'New title.' }),
    summary: t.string({ description: 'New summary.' }),
    url: t.string({ description: 'New link; pass `clearUrl: true` to remove it.' }),
    arxivId: t.string({ description: 'New arXiv id; pass `clearArxivId: true` to remove it.' }),
    clearUrl: t.boolean({ description: 'Remove the link.' }),
    clearArxivId: t.boolean({ description: 'Remove the arXiv id.' }),
  }),
});

const MovePaperInput = builder.inputType('MovePaperInput', {
  description: 'Where to move a paper inside its edition. Every number of the edition follows.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The paper.' }),
    category: t.string({ description: 'Slug of the category whose section it moves to (default: its own section).' }),
    position: t.int({ required: true, description: 'Its new position in that section, 1 = first.' }),
  }),
});

builder.mutationFields((t) => ({
  addPaper: t.field({
    type: AddPaperPayload,
    description: 'Adds a paper to an edition. Needs an editor token.',
    authScopes: editor,
    args: { input: t.arg({ type: AddPaperInput, required: true, description: 'The paper.' }) },
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: union('The new paper') },
    resolve: async (_r, { input }, ctx) => {
      const issueId = idOf(input.issueId, 'Issue', ['input', 'issueId']);
      const { paperId, changes } = await editorial.addPaper(ctx.db, {
        ...input,
        issueId,
        summary: input.summary ?? undefined,
      });
      await afterWrite(ctx, changes);
      return { paperId, issueId };
    },
  }),
  updatePaper: t.field({
    type: UpdatePaperPayload,
    description: 'Changes a paper (optimistic concurrency through `version`). Needs an editor token.',
    authScopes: editor,
    args: { input: t.arg({ type: UpdatePaperInput, required: true, description: 'The changes.' }) },
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: union('The changed paper') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Paper', ['input', 'id']);
      const { changes } = await editorial.updatePaper(ctx.db, {
        ...input,
        id,
        clearUrl: input.clearUrl ?? false,
        clearArxivId: input.clearArxivId ?? false,
      });
      await afterWrite(ctx, changes);
      return { paperId: id, issueId: changes.updatedIssueIds[0]! };
    },
  }),
  movePaper: t.field({
    type: MovePaperPayload,
    description:
      'Moves a paper to another section and/or position of its edition; numbers are renumbered. Needs an editor token.',
    authScopes: editor,
    args: { input: t.arg({ type: MovePaperInput, required: true, description: 'Where to.' }) },
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: union('The moved paper') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Paper', ['input', 'id']);
      const { changes } = await editorial.movePaper(ctx.db, { id, category: input.category, position: input.position });
      await afterWrite(ctx, changes);
      return { paperId: id, issueId: changes.updatedIssueIds[0]! };
    },
  }),
  deletePaper: t.field({
    type: DeletePaperPayload,
    description:
      'Deletes a paper; the following papers (and sections left empty) are renumbered. Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: builder.inputType('DeletePaperInput', {
          description: 'The paper to delete.',
          fields: (f) => ({ id: f.id({ required: true, description: 'The paper.' }) }),
        }),
        required: true,
        description: 'Which paper.',
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: union('The deleted paper') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Paper', ['input', 'id']);
      const { issueId, changes } = await editorial.deletePaper(ctx.db, id);
      await afterWrite(ctx, changes);
      return { paperId: id, issueId };
    },
  }),
  reorderSections: t.field({
    type: ReorderSectionsPayload,
    description:
      'Puts the sections of an edition in a new order; section and paper numbers follow. Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: builder.inputType('ReorderSectionsInput', {
          description: 'The new order of an edition’s sections.',
          fields: (f) => ({
            issueId: f.id({ required: true, description: 'The edition.' }),
            categories: f.stringList({
              required: true,
              description: 'Every section’s category slug, once each, in the new order.',
            }),
          }),
        }),
        required: true,
        description: 'The new order.',
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: union('The reordered edition') },
    resolve: async (_r, { input }, ctx) => {
      const issueId = idOf(input.issueId, 'Issue', ['input', 'issueId']);
      const { changes } = await editorial.reorderSections(ctx.db, { issueId, categories: input.categories });
      await afterWrite(ctx, changes);
      return { issueId };
    },
  }),
}));
