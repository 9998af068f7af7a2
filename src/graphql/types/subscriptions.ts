import { filter, map, pipe } from 'graphql-yoga';
import type { IssueRow } from '../../db/schema.js';
import { builder } from '../builder.js';
import { IssueRef } from '../refs.js';

// Streams are built with the pub/sub's operators (repeaters), not async generators: a generator
// waiting for its next event cannot be stopped, so a client that went away kept its subscription
// (and the stream's slot) until the next event; a repeater stops at once.

builder.subscriptionFields((t) => ({
  issuePublished: t.field({
    type: IssueRef,
    description: 'An edition, each time one is published (publishing it again sends nothing).',
    subscribe: (_root, _args, ctx) =>
      pipe(
        ctx.events.subscribe('issuePublished'),
        map((event: { issueId: number }) => {
          // loaders live for the whole subscription: forget what they cached before each event
          ctx.loaders.clearAll();
          return ctx.loaders.issueById.load(event.issueId);
        }),
        filter((issue: IssueRow | null): issue is IssueRow => !!issue && issue.status === 'published'),
      ),
    resolve: (issue: IssueRow) => issue,
  }),
  issueUpdated: t.field({
    type: IssueRef,
    description: 'The edition with this slug, each time it (or one of its papers) changes. Drafts only for editors.',
    args: { slug: t.arg.string({ required: true, description: 'Slug of the edition to watch.' }) },
    subscribe: (_root, args, ctx) =>
      pipe(
        ctx.events.subscribe('issueUpdated', args.slug),
        map((event: { issueId: number }) => {
          ctx.loaders.clearAll();
          return ctx.loaders.issueById.load(event.issueId);
        }),
        filter((issue: IssueRow | null): issue is IssueRow => !!issue),
      ),
    resolve: (issue: IssueRow) => issue,
  }),
}));
