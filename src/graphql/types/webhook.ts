import type { WebhookDeliveryRow, WebhookRow } from '../../db/schema.js';
import { deliveriesPage, listWebhooks, webhookById } from '../../db/queries/webhooks.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../../webhooks/events.js';
import * as service from '../../webhooks/service.js';
import { builder } from '../builder.js';
import { encodeGlobalId } from '../global-id.js';
import { idOf } from '../mutation-helpers.js';
import { type CursorCodec, toConnection, windowFromArgs } from '../pagination.js';

// Webhooks: admin-only endpoints that receive signed deliveries of events (README "Webhooks").
// Read from the primary: deliveries change under the worker, and an admin expects to see what it just set.

const admin = { admin: true } as const;

/** GraphQL enum names for the event types (`issue.published` → ISSUE_PUBLISHED). */
const enumName = (event: WebhookEvent) => event.replace('.', '_').toUpperCase();

const EVENT_DESCRIPTIONS: Record<WebhookEvent, string> = {
  'issue.published': 'An edition was published (`issue.published`).',
  'issue.updated': 'A published edition changed: its fields, or the order of its sections (`issue.updated`).',
  'issue.unpublished': 'A published edition went back to draft, or was deleted (`issue.unpublished`, `deleted: true`).',
  'paper.created': 'A paper was added to a published edition (`paper.created`).',
  'paper.updated': 'A paper of a published edition was edited or moved (`paper.updated`).',
  'paper.deleted': 'A paper was removed from a published edition (`paper.deleted`).',
  'category.updated': 'A category was renamed or described anew (`category.updated`).',
  'category.merged': 'A category was merged into another (`category.merged`).',
};

export const WebhookEventEnum = builder.enumType('WebhookEvent', {
  description: 'What a webhook is told about. The `type` of a delivery\u2019s body is the name in parentheses.',
  values: Object.fromEntries(
    WEBHOOK_EVENTS.map((e) => [enumName(e), { value: e, description: EVENT_DESCRIPTIONS[e] }]),
  ) as Record<string, { value: WebhookEvent; description: string }>,
});

const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery stands.',
  values: {
    PENDING: { value: 'pending', description: 'Not delivered yet: waiting for its first attempt or a retry.' },
    DELIVERED: { value: 'delivered', description: 'The receiver answered 2xx.' },
    FAILED: {
      value: 'failed',
      description: 'Given up: a 4xx answer (but 408/429), a refused address, or 8 failed attempts.',
    },
  } as const,
});

const deliveryCursor: CursorCodec<number> = {
  kind: 'webhook-delivery',
  validate: (v) => (Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647 ? (v as number) : null),
};

const WebhookDeliveryRef = builder.objectRef<WebhookDeliveryRow>('WebhookDelivery').implement({
  description: 'One event sent (or to be sent) to one webhook, with the outcome of its last attempt.',
  fields: (t) => ({
    id: t.id({ description: 'Opaque ID of this delivery.', resolve: (d) => encodeGlobalId('WebhookDelivery', d.id) }),
    messageId: t.exposeString('messageId', {
      description: 'The `webhook-id` header: the same for every delivery of one event (deduplicate on it).',
    }),
    event: t.field({ type: WebhookEventEnum, description: 'The event.', resolve: (d) => d.event as WebhookEvent }),
    status: t.field({ type: DeliveryStatusEnum, description: 'Where it stands.', resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far (at most 8).' }),
    payload: t.exposeString('payload', { description: 'The JSON body, exactly as signed and sent.' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is tried next (null unless pending).',
      resolve: (d) => (d.status === 'pending' ? d.nextAttemptAt : null),
    }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: 'Why the last attempt failed (HTTP status, timeout, refused address…).',
    }),
    lastStatusCode: t.exposeInt('lastStatusCode', {
      nullable: true,
      description: 'HTTP status of the last answer, if there was one.',
    }),
    lastResponse: t.exposeString('lastResponse', {
      nullable: true,
      description: 'The start of the last answer\u2019s body (at most 1 KB).',
    }),
    deliveredAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the receiver accepted it.',
      resolve: (d) => d.deliveredAt,
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When the event was recorded.', resolve: (d) => d.createdAt }),
  }),
});

const WebhookDeliveryConnection = builder.connectionObject(
  { type: WebhookDeliveryRef, name: 'WebhookDeliveryConnection', description: 'A page of deliveries, newest first.' },
  { name: 'WebhookDeliveryEdge', description: 'A delivery in a page, with its cursor.' },
);

const WebhookRef = builder.objectRef<WebhookRow>('Webhook').implement({
  description:
    'An endpoint that receives signed POSTs (Standard Webhooks) of the events it subscribed to. Admin tokens only.',
  fields: (t) => ({
    id: t.id({ description: 'Opaque ID of this webhook.', resolve: (w) => encodeGlobalId('Webhook', w.id) }),
    url: t.exposeString('url', { description: 'Where deliveries are posted (http or https).' }),
    events: t.field({
      type: [WebhookEventEnum],
      description: 'The events it receives.',
      resolve: (w) => w.events as WebhookEvent[],
    }),
    description: t.exposeString('description', { description: 'What it is for (free text).' }),
    enabled: t.exposeBoolean('enabled', {
      description: 'Whether it receives deliveries. Events are not recorded for a disabled webhook.',
    }),
    disabledReason: t.exposeString('disabledReason', {
      nullable: true,
      description: 'Why it was disabled: by an admin, or after every delivery failed for 3 days.',
    }),
    failingSince: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Since when every attempt has failed (null when the last one succeeded).',
      resolve: (w) => w.failingSince,
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was made.', resolve: (w) => w.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (w) => w.updatedAt }),
    deliveries: t.field({
      type: WebhookDeliveryConnection,
      description: 'Its deliveries, newest first.',
      args: {
        first: t.arg.int({ description: 'Page size (1–100, default 20).' }),
        after: t.arg.string({ description: 'Cursor of the last delivery of the previous page.' }),
      },
      resolve: async (w, args, ctx) => {
        const window = windowFromArgs({ first: args.first, after: args.after }, 'DESC', deliveryCursor);
        const rows = await deliveriesPage(ctx.primary, w.id, window.limit, window.cursor);
        return toConnection(
          rows,
          window,
          deliveryCursor,
          (d) => d.id,
          async () => 0,
        ) as never;
      },
    }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    description: 'Every webhook (at most 100). Needs an admin token.',
    authScopes: admin,
    resolve: (_r, _a, ctx) => listWebhooks(ctx.primary),
  }),
  webhook: t.field({
    type: WebhookRef,
    nullable: true,
    description: 'One webhook by ID. Needs an admin token.',
    authScopes: admin,
    args: { id: t.arg.id({ required: true, description: 'The webhook.' }) },
    resolve: async (_r, { id }, ctx) => {
      let n: number;
      try {
        n = idOf(id, 'Webhook', ['id']);
      } catch {
        return null;
      }
      return webhookById(ctx.primary, n);
    },
  }),
}));

const union = (what: string) => ({ description: `${what}, or why nothing was written.` });

const WebhookPayload = (name: string, description: string) =>
  builder.objectRef<{ webhook: WebhookRow }>(name).implement({
    description,
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef, description: 'The webhook after the change.', resolve: (p) => p.webhook }),
    }),
  });

const WebhookSecretPayload = (name: string, description: string) =>
  builder.objectRef<{ webhook: WebhookRow; secret: string }>(name).implement({
    description,
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef, description: 'The webhook.', resolve: (p) => p.webhook }),
      secret: t.exposeString('secret', {
        description:
          'The signing secret (`whsec_…`), shown this once: keep it to verify `webhook-signature` (Standard Webhooks).',
      }),
    }),
  });

const idInput = (name: string, description: string, what: string) =>
  builder.inputType(name, {
    description,
    fields: (f) => ({ id: f.id({ required: true, description: what }) }),
  });

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookSecretPayload('CreateWebhookPayload', 'Result of `createWebhook`: the webhook and its secret.'),
    description:
      'Registers an endpoint for the given events and returns its signing secret (only now). Needs an admin token.',
    authScopes: admin,
    args: {
      input: t.arg({
        required: true,
        description: 'The endpoint.',
        type: builder.inputType('CreateWebhookInput', {
          description: 'A new webhook.',
          fields: (f) => ({
            url: f.string({
              required: true,
              description:
                'http(s) URL to POST to (at most 2 000 characters). Loopback, private and link-local addresses are refused unless the server sets WEBHOOK_ALLOW_PRIVATE.',
            }),
            events: f.field({ type: [WebhookEventEnum], required: true, description: 'The events to receive.' }),
            description: f.string({ description: 'What it is for (at most 1 000 characters).' }),
          }),
        }),
      }),
    },
    errors: { types: [ValidationError], union: union('The new webhook') },
    resolve: async (_r, { input }, ctx) => service.createWebhook(ctx.db, input, ctx.webhookAllowPrivate),
  }),
  updateWebhook: t.field({
    type: WebhookPayload('UpdateWebhookPayload', 'Result of `updateWebhook`.'),
    description:
      'Changes a webhook; `enabled: true` also clears a disabled webhook\u2019s failure record. Needs an admin token.',
    authScopes: admin,
    args: {
      input: t.arg({
        required: true,
        description: 'The changes.',
        type: builder.inputType('UpdateWebhookInput', {
          description: 'Changes to a webhook; omitted fields stay as they are.',
          fields: (f) => ({
            id: f.id({ required: true, description: 'The webhook.' }),
            url: f.string({ description: 'New URL.' }),
            events: f.field({ type: [WebhookEventEnum], description: 'New list of events.' }),
            description: f.string({ description: 'New description.' }),
            enabled: f.boolean({ description: 'Turn deliveries on or off.' }),
          }),
        }),
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: union('The changed webhook') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Webhook', ['input', 'id']);
      return { webhook: await service.updateWebhook(ctx.db, { ...input, id }, ctx.webhookAllowPrivate) };
    },
  }),
  deleteWebhook: t.field({
    type: builder.objectRef<{ id: number }>('DeleteWebhookPayload').implement({
      description: 'Result of `deleteWebhook`.',
      fields: (f) => ({
        deletedWebhookId: f.id({
          description: 'ID the deleted webhook had.',
          resolve: (p) => encodeGlobalId('Webhook', p.id),
        }),
      }),
    }),
    description: 'Deletes a webhook and its deliveries (pending ones are not sent). Needs an admin token.',
    authScopes: admin,
    args: {
      input: t.arg({
        required: true,
        description: 'The webhook.',
        type: idInput('DeleteWebhookInput', 'The webhook to delete.', 'The webhook.'),
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: union('The deleted webhook') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'Webhook', ['input', 'id']);
      await service.deleteWebhook(ctx.db, id);
      return { id };
    },
  }),
  rotateWebhookSecret: t.field({
    type: WebhookSecretPayload('RotateWebhookSecretPayload', 'Result of `rotateWebhookSecret`: the new secret.'),
    description: 'Gives a webhook a new signing secret, used from the next delivery on. Needs an admin token.',
    authScopes: admin,
    args: {
      input: t.arg({
        required: true,
        description: 'The webhook.',
        type: idInput('RotateWebhookSecretInput', 'The webhook whose secret changes.', 'The webhook.'),
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: union('The new secret') },
    resolve: async (_r, { input }, ctx) =>
      service.rotateWebhookSecret(ctx.db, idOf(input.id, 'Webhook', ['input', 'id'])),
  }),
  redeliverWebhookDelivery: t.field({
    type: builder.objectRef<{ delivery: WebhookDeliveryRow }>('RedeliverWebhookDeliveryPayload').implement({
      description: 'Result of `redeliverWebhookDelivery`.',
      fields: (f) => ({
        delivery: f.field({
          type: WebhookDeliveryRef,
          description: 'The new delivery (pending; same `messageId` and body).',
          resolve: (p) => p.delivery,
        }),
      }),
    }),
    description:
      'Sends a past delivery\u2019s event again, after what its webhook already has pending. Needs an admin token.',
    authScopes: admin,
    args: {
      input: t.arg({
        required: true,
        description: 'The delivery.',
        type: idInput('RedeliverWebhookDeliveryInput', 'The delivery to send again.', 'The delivery.'),
      }),
    },
    errors: { types: [ValidationError, NotFoundError], union: union('The new delivery') },
    resolve: async (_r, { input }, ctx) => {
      const id = idOf(input.id, 'WebhookDelivery', ['input', 'id']);
      return { delivery: await service.redeliver(ctx.db, id) };
    },
  }),
}));
