import * as editorial from '../../editorial/service.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { builder } from '../builder.js';
import { encodeGlobalId } from '../global-id.js';
import { afterWrite, idOf } from '../mutation-helpers.js';
import { IssueRef } from '../refs.js';

const editor = { editor: true } as const;

/** Payload types that carry one edition, loaded fresh after the write. */
function issuePayload(name: string, description: string) {
  return builder.objectRef<{ issueId: number }>(name).implement({
    description,
    fields: (t) => ({
      issue: t.field({
        type: IssueRef,
        description: 'The edition after the change.',
        resolve: async (p, _a, ctx) => (await ctx.loaders.issueById.load(p.issueId))!,
      }),
    }),
  });
}

const CreateIssueInput = builder.inputType('CreateIssueInput', {
  description: 'A new, empty draft edition.',
  fields: (t) => ({
    slug: t.string({
      required: true,
      description: 'Unique URL name, e.g. `2025-05-05` (lowercase letters, digits, dashes).',
    }),
    title: t.string({ required: true, description: 'Title (1–500 characters).' }),
    subtitle: t.string({ description: 'Subtitle (at most 1 000 characters).' }),
    weekStart: t.field({ type: 'Date', required: true, description: 'First day of the week.' }),
    weekEnd: t.field({
      type: 'Date',
      description: 'Last day of the week (default: weekStart + 6 days; not before weekStart).',
    }),
    intro: t.string({ description: 'Introduction, Markdown (at most 20 000 characters).' }),
    outro: t.string({ description: 'Outro, Markdown (at most 20 000 characters).' }),
  }),
});

const UpdateIssueInput = builder.inputType('UpdateIssueInput', {
  description: 'Changes to an edition; omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The edition.' }),
    version: t.int({
      required: true,
      description: 'The `version` you read: a stale version is a ConflictError and nothing is written.',
    }),
    slug: t.string({ description: 'New slug.' }),
    title: t.string({ description: 'New title.' }),
    subtitle: t.string({ description: 'New subtitle.' }),
    weekStart: t.field({ type: 'Date', description: 'New first day of the week.' }),
    weekEnd: t.field({ type: 'Date', description: 'New last day of the week.' }),
    intro: t.string({ description: 'New introduction.' }),
    outro: t.string({ description: 'New outro.' }),
  }),
});

const IssueIdInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({ id: t.id({ required: true, description: 'The edition.' }) }),
  });

const CreateIssuePayload = issuePayload('CreateIssuePayload', 'Result of `createIssue`.');
const UpdateIssuePayload = issuePayload('UpdateIssuePayload', 'Result of `updateIssue`.');
const PublishIssuePayload = issuePayload('PublishIssuePayload', 'Result of `publishIssue`.');
const UnpublishIssuePayload = issuePayload('UnpublishIssuePayload', 'Result of `unpublishIssue`.');
const DeleteIssuePayload = builder.objectRef<{ id: number; slug: string }>('DeleteIssuePayload').implement({
  description: 'Result of `deleteIssue`.',
  fields: (t) => ({
    deletedIssueId: t.id({
      description: 'Global ID the deleted edition had.',
      resolve: (p) => encodeGlobalId('Issue', p.id),
    }),
    slug: t.exposeString('slug', { description: 'Slug the deleted edition had.' }),
  }),
});

const unionDescription = (what: string) => ({ description: `${what}, or why nothing was written.` });

builder.mutationFields((t) => ({
  createIssue: t.field({
    type: CreateIssuePayload,
    description: 'Creates an empty draft edition. Needs an editor token.',
    authScopes: editor,
    args: { input: t.arg({ type: CreateIssueInput, required: true, description: 'The edition.' }) },
    errors: { types: [ValidationError, ConflictError], union: unionDescription('The new edition') },
    resolve: async (_r, { input }, ctx) => {
      const { issue, changes } = await editorial.createIssue(ctx.db, {
        ...input,
        subtitle: input.subtitle ?? undefined,
        intro: input.intro ?? undefined,
        outro: input.outro ?? undefined,
      });
      await afterWrite(ctx, changes);
      return { issueId: issue.id };
    },
  }),
  updateIssue: t.field({
    type: UpdateIssuePayload,
    description: 'Changes an edition’s own fields (optimistic concurrency through `version`). Needs an editor token.',
    authScopes: editor,
    args: { input: t.arg({ type: UpdateIssueInput, required: true, description: 'The changes.' }) },
    errors: { types: [ValidationError, ConflictError, NotFoundError], union: unionDescription('The changed edition') },
    resolve: async (_r, { input }, ctx) => {
      const { issue, changes } = await editorial.updateIssue(ctx.db, {
        ...input,
        id: idOf(input.id, 'Issue', ['input', 'id']),
      });
      await afterWrite(ctx, changes);
      return { issueId: issue.id };
    },
  }),
  deleteIssue: t.field({
    type: DeleteIssuePayload,
    description: 'Deletes an edition with its sections and papers. Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: IssueIdInput('DeleteIssueInput', 'The edition to delete.'),
        required: true,
        description: 'Which edition.',
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: unionDescription('The deleted edition') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Issue', ['input', 'id']);
      const { slug } = await editorial.deleteIssue(ctx.db, id);
      await afterWrite(ctx, { updatedIssueIds: [], publishedIssueIds: [] });
      return { id, slug };
    },
  }),
  publishIssue: t.field({
    type: PublishIssuePayload,
    description:
      'Publishes an edition. Publishing a published edition changes nothing (same `publishedAt`, no new event). Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: IssueIdInput('PublishIssueInput', 'The edition to publish.'),
        required: true,
        description: 'Which edition.',
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: unionDescription('The published edition') },
    resolve: async (_r, { input }, ctx) => {
      const { issue, changes } = await editorial.publishIssue(ctx.db, idOf(input.id, 'Issue', ['input', 'id']));
      await afterWrite(ctx, changes);
      return { issueId: issue.id };
    },
  }),
  unpublishIssue: t.field({
    type: UnpublishIssuePayload,
    description: 'Turns a published edition back into a draft (readers no longer see it). Needs an editor token.',
    authScopes: editor,
    args: {
      input: t.arg({
        type: IssueIdInput('UnpublishIssueInput', 'The edition to unpublish.'),
        required: true,
        description: 'Which edition.',
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: unionDescription('The edition, now a draft') },
    resolve: async (_r, { input }, ctx) => {
      const { issue, changes } = await editorial.unpublishIssue(ctx.db, idOf(input.id, 'Issue', ['input', 'id']));
      await afterWrite(ctx, changes);
      return { issueId: issue.id };
    },
  }),
}));
