import type { Db } from '../db/client.js';
import { issueEventRow, paperEventRow, recordWebhookEvent } from '../db/queries/webhooks.js';
import {
  type CategoryData,
  type RecordedEvent,
  categoryMerged,
  categoryUpdated,
  issueEvent,
  paperEvent,
} from '../webhooks/events.js';

// The outbox writes of the editorial service: each runs in the change's own
// transaction (pass the transaction), so an event exists exactly when its
// change committed — whoever made it (the API, an import from the CLI).

async function record(tx: Db, e: RecordedEvent): Promise<void> {
  await recordWebhookEvent(tx, e.event, e.messageId, e.payload);
}

/** `issue.published` / `issue.unpublished` (always), `issue.updated` (only while the edition is published). */
export async function recordIssueEvent(
  tx: Db,
  event: 'issue.published' | 'issue.updated' | 'issue.unpublished',
  issueId: number,
  extra: { deleted?: boolean } = {},
): Promise<void> {
  const issue = await issueEventRow(tx, issueId);
  if (!issue) return;
  if (event === 'issue.updated' && issue.status !== 'published') return;
  await record(tx, issueEvent(event, issue, extra));
}

/** A paper event, when its edition is published (readers of a draft see nothing yet: its publication says it). */
export async function recordPaperEvent(
  tx: Db,
  event: 'paper.created' | 'paper.updated' | 'paper.deleted',
  paperId: number,
): Promise<void> {
  const paper = await paperEventRow(tx, paperId);
  if (!paper) return;
  const issue = await issueEventRow(tx, paper.issueId);
  if (issue?.status !== 'published') return;
  await record(tx, paperEvent(event, paper, issue));
}

export async function recordCategoryUpdated(tx: Db, category: CategoryData): Promise<void> {
  await record(tx, categoryUpdated(category));
}

export async function recordCategoryMerged(tx: Db, source: CategoryData, target: CategoryData): Promise<void> {
  await record(tx, categoryMerged(source, target));
}
