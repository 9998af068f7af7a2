import { randomUUID } from 'node:crypto';
import type { IssueEventRow, PaperEventRow } from '../db/queries/webhooks.js';
import { encodeGlobalId } from '../ids.js';

/**
 * The events a webhook can subscribe to, and the JSON each delivery carries
 * (`{ type, timestamp, data }`, as Standard Webhooks suggests). Pure: the
 * editorial service reads the rows in its transaction and records what this
 * builds. Events are about what the public can see: editions when they are
 * published, unpublished or edited while published, papers of published
 * editions, and categories.
 */
export const WEBHOOK_EVENTS = [
  'issue.published',
  'issue.updated',
  'issue.unpublished',
  'paper.created',
  'paper.updated',
  'paper.deleted',
  'category.updated',
  'category.merged',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** An edition and a paper as the change's transaction reads them (src/db/queries/webhooks.ts). */
export type IssueData = IssueEventRow;
export type PaperData = Omit<PaperEventRow, 'issueId'>;

export interface CategoryData {
  id: number;
  slug: string;
  name: string;
}

/** One event as recorded: its message id (the `webhook-id` header) and the body every endpoint gets. */
export interface RecordedEvent {
  event: WebhookEvent;
  messageId: string;
  payload: string;
}

const issueJson = (i: IssueData) => ({
  id: encodeGlobalId('Issue', i.id),
  databaseId: i.id,
  slug: i.slug,
  title: i.title,
  weekStart: i.weekStart,
  weekEnd: i.weekEnd,
  status: i.status.toUpperCase(),
  publishedAt: i.publishedAt ? i.publishedAt.toISOString() : null,
  version: i.version,
});

const paperJson = (p: PaperData) => ({
  id: encodeGlobalId('Paper', p.id),
  databaseId: p.id,
  number: `${p.sectionNumber}.${p.position}`,
  title: p.title,
  arxivId: p.arxivId,
  url: p.url,
  category: p.category,
  version: p.version,
});

const categoryJson = (c: CategoryData) => ({
  id: encodeGlobalId('Category', c.id),
  databaseId: c.id,
  slug: c.slug,
  name: c.name,
});

function recorded(event: WebhookEvent, data: Record<string, unknown>, now: Date): RecordedEvent {
  const messageId = `msg_${randomUUID().replaceAll('-', '')}`;
  return { event, messageId, payload: JSON.stringify({ type: event, timestamp: now.toISOString(), data }) };
}

export function issueEvent(
  event: 'issue.published' | 'issue.updated' | 'issue.unpublished',
  issue: IssueData,
  extra: { deleted?: boolean } = {},
  now = new Date(),
): RecordedEvent {
  return recorded(event, { issue: issueJson(issue), ...(extra.deleted ? { deleted: true } : {}) }, now);
}

export function paperEvent(
  event: 'paper.created' | 'paper.updated' | 'paper.deleted',
  paper: PaperData,
  issue: IssueData,
  now = new Date(),
): RecordedEvent {
  return recorded(
    event,
    { paper: paperJson(paper), issue: { id: encodeGlobalId('Issue', issue.id), slug: issue.slug } },
    now,
  );
}

export function categoryUpdated(category: CategoryData, now = new Date()): RecordedEvent {
  return recorded('category.updated', { category: categoryJson(category) }, now);
}

export function categoryMerged(source: CategoryData, target: CategoryData, now = new Date()): RecordedEvent {
  return recorded('category.merged', { source: categoryJson(source), target: categoryJson(target) }, now);
}
