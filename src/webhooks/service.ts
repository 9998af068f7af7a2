import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import * as q from '../db/queries/webhooks.js';
import type { WebhookDeliveryRow, WebhookRow } from '../db/schema.js';
import { inTransaction } from '../editorial/transaction.js';
import { validate } from '../editorial/validation.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { refusedUrl } from './deliver.js';
import { WEBHOOK_EVENTS } from './events.js';

// Admin writes of webhooks: checked, each in a transaction, typed errors.

/** At most this many endpoints (each event is one row per endpoint, written in the change's transaction). */
export const MAX_WEBHOOKS = 100;
const MAX_URL_LENGTH = 2_000;

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const eventsSchema = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1, 'name at least one event')
  .transform((events) => [...new Set(events)]);
const descriptionSchema = z.string().max(1_000, 'at most 1 000 characters');
const urlText = z.string().min(1, 'must not be empty').max(MAX_URL_LENGTH, `at most ${MAX_URL_LENGTH} characters`);

function checkUrl(url: string, allowPrivate: boolean): void {
  if (url.includes('\u0000')) throw new ValidationError('The URL must not contain NUL characters', ['input', 'url']);
  const why = refusedUrl(url, allowPrivate);
  if (why) throw new ValidationError(`This URL cannot receive webhooks: ${why}`, ['input', 'url']);
}

function checkDescription(description: string | null | undefined): void {
  if (description?.includes('\u0000')) {
    throw new ValidationError('The description must not contain NUL characters', ['input', 'description']);
  }
}

export async function createWebhook(
  db: Db,
  input: { url: string; events: string[]; description?: string | null },
  allowPrivate: boolean,
): Promise<{ webhook: WebhookRow; secret: string }> {
  const v = validate(z.object({ url: urlText, events: eventsSchema, description: descriptionSchema.nullish() }), input);
  checkUrl(v.url, allowPrivate);
  checkDescription(v.description);
  const secret = newSecret();
  const webhook = await inTransaction(db, async (tx) => {
    if ((await q.countWebhooks(tx)) >= MAX_WEBHOOKS) {
      throw new ValidationError(`At most ${MAX_WEBHOOKS} webhooks; delete one first`, ['input']);
    }
    return q.insertWebhook(tx, { url: v.url, events: v.events, description: v.description ?? '', secret });
  });
  return { webhook, secret };
}

export async function updateWebhook(
  db: Db,
  input: {
    id: number;
    url?: string | null;
    events?: string[] | null;
    description?: string | null;
    enabled?: boolean | null;
  },
  allowPrivate: boolean,
): Promise<WebhookRow> {
  const v = validate(
    z.object({
      id: z.number().int(),
      url: urlText.nullish(),
      events: eventsSchema.nullish(),
      description: descriptionSchema.nullish(),
      enabled: z.boolean().nullish(),
    }),
    input,
  );
  if (v.url != null) checkUrl(v.url, allowPrivate);
  checkDescription(v.description);
  const row = await inTransaction(db, (tx) =>
    q.updateWebhookRow(tx, v.id, {
      ...(v.url != null ? { url: v.url } : {}),
      ...(v.events != null ? { events: v.events } : {}),
      ...(v.description != null ? { description: v.description } : {}),
      ...(v.enabled != null ? { enabled: v.enabled, disabledReason: v.enabled ? null : 'Disabled by an admin' } : {}),
    }),
  );
  if (!row) throw new NotFoundError('No webhook has this id');
  return row;
}

export async function deleteWebhook(db: Db, id: number): Promise<void> {
  const deleted = await inTransaction(db, (tx) => q.deleteWebhookRow(tx, id));
  if (!deleted) throw new NotFoundError('No webhook has this id');
}

/** A new secret, effective for the next delivery (the old one stops signing at once). */
export async function rotateWebhookSecret(db: Db, id: number): Promise<{ webhook: WebhookRow; secret: string }> {
  const secret = newSecret();
  const webhook = await inTransaction(db, (tx) => q.updateWebhookRow(tx, id, { secret }));
  if (!webhook) throw new NotFoundError('No webhook has this id');
  return { webhook, secret };
}

/** Sends a past delivery's event again (same `webhook-id`, so receivers can tell), after the endpoint's queue. */
export async function redeliver(db: Db, deliveryId: number): Promise<WebhookDeliveryRow> {
  const row = await inTransaction(db, (tx) => q.copyDelivery(tx, deliveryId));
  if (!row) throw new NotFoundError('No webhook delivery has this id');
  return row;
}
