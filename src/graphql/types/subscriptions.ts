import type { IssueRow } from '../../db/schema.js';
import { builder } from '../builder.js';
import { IssueRef } from '../refs.js';

builder.subscriptionFields((t) => ({
  issuePublished: t.field({
    type: IssueRef,
    description: 'An edition, each time one is published (publishing it again sends nothing).',
    subscribe: async function* (_root, _args, ctx) {
      for await (const event of ctx.events.subscribe('issuePublished')) {
        // loaders live for the whole subscription: forget what they cached before each event
        ctx.loaders.clearAll();
        const issue = await ctx.loaders.issueById.load(event.issueId);
        if (issue && issue.status === 'published') yield issue;
      }
    },
    resolve: (issue: IssueRow) => issue,
  }),
  issueUpdated: t.field({
    type: IssueRef,
    description: 'The edition with this slug, each time it (or one of its papers) changes. Drafts only for editors.',
    args: { slug: t.arg.string({ required: true, description: 'Slug of the edition to watch.' }) },
    subscribe: async function* (_root, args, ctx) {
      for await (const event of ctx.events.subscribe('issueUpdated', args.slug)) {
        ctx.loaders.clearAll();
        const issue = await ctx.loaders.issueById.load(event.issueId);
        if (issue) yield issue;
      }
    },
    resolve: (issue: IssueRow) => issue,
  }),
}));
