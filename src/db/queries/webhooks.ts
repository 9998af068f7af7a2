import { and, desc, eq, lt, sql } from '../orm.js';
import type { Db } from '../client.js';
import {
  type WebhookDeliveryRow,
  type WebhookRow,
  categories,
  issues,
  papers,
  webhookDeliveries,
  webhooks,
} from '../schema.js';
import { selectRows } from './util.js';

// Webhooks: the endpoints (admin writes), the outbox rows written in the
// transaction of each change, and the worker's claim and outcome statements.

export async function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return db.select().from(webhooks).orderBy(webhooks.id);
}

export async function webhookById(db: Db, id: number): Promise<WebhookRow | null> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row ?? null;
}

export async function countWebhooks(db: Db): Promise<number> {
  const [row] = await selectRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM webhooks`);
  return Number(row?.n ?? 0);
}

export async function insertWebhook(
  db: Db,
  values: { url: string; events: string[]; description: string; secret: string },
): Promise<WebhookRow> {
  const [row] = await db.insert(webhooks).values(values).returning();
  return row!;
}

export async function updateWebhookRow(
  db: Db,
  id: number,
  fields: Partial<Pick<WebhookRow, 'url' | 'events' | 'description' | 'secret' | 'enabled' | 'disabledReason'>>,
): Promise<WebhookRow | null> {
  const extra = fields.enabled === true ? { failingSince: null, disabledReason: null } : {};
  const [row] = await db
    .update(webhooks)
    .set({ ...fields, ...extra, updatedAt: sql`now()` })
    .where(eq(webhooks.id, id))
    .returning();
  return row ?? null;
}

export async function deleteWebhookRow(db: Db, id: number): Promise<boolean> {
  const rows = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  return rows.length > 0;
}

/**
 * The outbox write: one pending delivery of `event` to every enabled endpoint
 * that subscribed to it. Runs inside the change's own transaction, so the
 * event exists exactly when the change committed.
 */
export async function recordWebhookEvent(db: Db, event: string, messageId: string, payload: string): Promise<void> {
  await db.execute(sql`INSERT INTO webhook_deliveries (webhook_id, message_id, event, payload)
    SELECT w.id, ${messageId}, ${event}, ${payload} FROM webhooks w
    WHERE w.enabled AND ${event}::text = ANY (w.events)`);
}

/** A page of an endpoint's deliveries, newest first (keyset on id). */
export async function deliveriesPage(
  db: Db,
  webhookId: number,
  limit: number,
  beforeId: number | null,
): Promise<WebhookDeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      beforeId === null
        ? eq(webhookDeliveries.webhookId, webhookId)
        : and(eq(webhookDeliveries.webhookId, webhookId), lt(webhookDeliveries.id, beforeId)),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
}

export async function deliveryById(db: Db, id: number): Promise<WebhookDeliveryRow | null> {
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row ?? null;
}

/** A new pending delivery of a past one's event (same message id and body): it goes to the end of its endpoint's queue. */
export async function copyDelivery(db: Db, id: number): Promise<WebhookDeliveryRow | null> {
  const [row] = await selectRows<{ id: number }>(
    db,
    sql`INSERT INTO webhook_deliveries (webhook_id, message_id, event, payload)
        SELECT webhook_id, message_id, event, payload FROM webhook_deliveries WHERE id = ${id}
        RETURNING id`,
  );
  return row ? deliveryById(db, Number(row.id)) : null;
}

/** What the worker posts: a claimed delivery with its endpoint. */
export interface ClaimedDelivery {
  id: number;
  webhookId: number;
  messageId: string;
  event: string;
  payload: string;
  attempts: number;
  url: string;
  secret: string;
}

/**
 * Claims up to `limit` due deliveries, at most one per endpoint: each
 * endpoint's oldest pending delivery (so an endpoint gets its events one at a
 * time, in order), when it is due and nobody holds it. The rows are locked
 * with SKIP LOCKED (several servers never take the same row) and leased for
 * `leaseMs`: the post happens outside any transaction, and a worker that dies
 * lets its rows go when the lease ends. The lease conditions sit in the
 * locking scan itself, so they are checked again on the row's newest version.
 */
export async function claimDueDeliveries(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await selectRows<ClaimedDelivery>(
    db,
    sql`WITH heads AS (
          SELECT DISTINCT ON (d.webhook_id) d.id FROM webhook_deliveries d
          WHERE d.status = 'pending' ORDER BY d.webhook_id, d.id
        ),
        due AS (
          SELECT d.id FROM webhook_deliveries d
          JOIN heads h ON h.id = d.id
          JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()
            AND (d.lease_until IS NULL OR d.lease_until < now())
          ORDER BY d.next_attempt_at, d.id
          LIMIT ${limit}::int
          FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE webhook_deliveries d
        SET lease_until = now() + make_interval(secs => ${leaseMs / 1000}::float8), attempts = d.attempts + 1
        FROM due, webhooks w
        WHERE d.id = due.id AND w.id = d.webhook_id
        RETURNING d.id, d.webhook_id AS "webhookId", d.message_id AS "messageId", d.event, d.payload,
                  d.attempts, w.url, w.secret`,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), webhookId: Number(r.webhookId), attempts: Number(r.attempts) }));
}

/** The outcome of one attempt, as the worker records it. */
export interface AttemptOutcome {
  /** delivered; retry at `nextAttemptAt`; or failed for good. */
  result: 'delivered' | 'retry' | 'failed';
  nextAttemptAt?: Date;
  error: string | null;
  statusCode: number | null;
  response: string | null;
}

/**
 * Records an attempt and the endpoint's health in one transaction: a success
 * clears `failing_since`; a failure sets it when unset, and an endpoint
 * failing for longer than `disableAfterMs` is disabled with the reason.
 * Returns whether the endpoint was disabled now.
 */
export async function recordAttempt(
  db: Db,
  claimed: Pick<ClaimedDelivery, 'id' | 'webhookId'>,
  outcome: AttemptOutcome,
  disableAfterMs: number,
): Promise<{ disabled: boolean }> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await t.execute(sql`UPDATE webhook_deliveries SET
        status = ${outcome.result === 'retry' ? 'pending' : outcome.result}::webhook_delivery_status,
        next_attempt_at = coalesce(${outcome.nextAttemptAt?.toISOString() ?? null}::timestamptz, next_attempt_at),
        lease_until = NULL,
        last_error = ${outcome.error},
        last_status_code = ${outcome.statusCode}::int,
        last_response = ${outcome.response},
        delivered_at = CASE WHEN ${outcome.result} = 'delivered' THEN now() ELSE delivered_at END
      WHERE id = ${claimed.id}`);
    if (outcome.result === 'delivered') {
      await t.execute(
        sql`UPDATE webhooks SET failing_since = NULL WHERE id = ${claimed.webhookId} AND failing_since IS NOT NULL`,
      );
      return { disabled: false };
    }
    const rows = await selectRows<{ id: number }>(
      t,
      sql`UPDATE webhooks SET
            failing_since = coalesce(failing_since, now()),
            enabled = NOT (failing_since IS NOT NULL AND failing_since < now() - make_interval(secs => ${disableAfterMs / 1000}::float8)),
            disabled_reason = CASE
              WHEN failing_since IS NOT NULL AND failing_since < now() - make_interval(secs => ${disableAfterMs / 1000}::float8)
              THEN 'Every delivery failed since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                   || '; last error: ' || left(coalesce(${outcome.error}, 'unknown'), 300)
              ELSE disabled_reason END
          WHERE id = ${claimed.webhookId} AND enabled
          RETURNING id, enabled`,
    );
    const row = rows[0] as { enabled?: boolean } | undefined;
    return { disabled: row !== undefined && row.enabled === false };
  });
}

/** Rows for the events' payloads, read in the change's transaction. */
export interface IssueEventRow {
  id: number;
  slug: string;
  title: string;
  weekStart: string;
  weekEnd: string;
  status: 'draft' | 'published';
  publishedAt: Date | null;
  version: number;
}

export async function issueEventRow(db: Db, id: number): Promise<IssueEventRow | null> {
  const [row] = await db
    .select({
      id: issues.id,
      slug: issues.slug,
      title: issues.title,
      weekStart: issues.weekStart,
      weekEnd: issues.weekEnd,
      status: issues.status,
      publishedAt: issues.publishedAt,
      version: issues.version,
    })
    .from(issues)
    .where(eq(issues.id, id));
  return row ?? null;
}

export interface PaperEventRow {
  id: number;
  title: string;
  arxivId: string | null;
  url: string | null;
  sectionNumber: number;
  position: number;
  version: number;
  category: string;
  issueId: number;
}

export async function paperEventRow(db: Db, id: number): Promise<PaperEventRow | null> {
  const [row] = await db
    .select({
      id: papers.id,
      title: papers.title,
      arxivId: papers.arxivId,
      url: papers.url,
      sectionNumber: papers.sectionNumber,
      position: papers.position,
      version: papers.version,
      category: categories.slug,
      issueId: papers.issueId,
    })
    .from(papers)
    .innerJoin(categories, eq(categories.id, papers.categoryId))
    .where(eq(papers.id, id));
  return row ?? null;
}
