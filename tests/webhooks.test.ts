/**
 * Webhooks through the API and the worker, on the test database (PGlite or
 * PostgreSQL) and a receiver listening on 127.0.0.1: the outbox row is written
 * with the change (and not without it), deliveries are signed as Standard
 * Webhooks says (checked with its reference library), arrive in commit order,
 * are retried on 5xx/429 and not on 4xx, and admin-only. The process-level
 * cases (kill -9, two servers) are in tests/e2e/webhooks.test.ts.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { selectRows } from '../src/db/queries/util.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createLogger } from '../src/observability/logging.js';
import { deliver, refusedAddress, refusedUrl } from '../src/webhooks/deliver.js';
import { MAX_ATTEMPTS, decide } from '../src/webhooks/policy.js';
import { type WebhookWorker, startWebhookWorker } from '../src/webhooks/worker.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** A receiver on 127.0.0.1 that records each POST and answers what `answer` says. */
function receiver() {
  const received: Received[] = [];
  let answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      const a = answer(received.length);
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.status >= 400 ? `no thanks ${'x'.repeat(5000)}` : '');
    });
  });
  return {
    received,
    server,
    setAnswer(fn: typeof answer) {
      answer = fn;
    },
    async listen(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    },
  };
}

let tdb: TestDb;
let app: App;
let admin: Record<string, string>;
let editor: Record<string, string>;
let worker: WebhookWorker | undefined;
const rx = receiver();
let hookUrl: string;

function startWorker(overrides: Partial<Parameters<typeof startWebhookWorker>[0]> = {}) {
  worker = startWebhookWorker({
    db: tdb.db,
    logger: createLogger('silent'),
    timeoutMs: 2_000,
    allowPrivate: true,
    pollMs: 50,
    concurrency: 4,
    retryScale: 0.01,
    disableAfterMs: 3 * 86_400_000,
    ...overrides,
  });
  return worker;
}

beforeAll(async () => {
  tdb = await createTestDb();
  app = createApp({ db: tdb.db, webhookAllowPrivate: true });
  hookUrl = await rx.listen();
});
beforeEach(async () => {
  await worker?.stop();
  worker = undefined;
  rx.received.length = 0;
  rx.setAnswer(() => ({ status: 204 }));
  await tdb.truncate();
  await seedSample(tdb.db);
  admin = await authHeader(tdb.db, 'admin');
  editor = await authHeader(tdb.db, 'editor');
});
afterAll(async () => {
  await worker?.stop();
  rx.server.close();
  await tdb?.destroy();
});

const CreateWebhook = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      __typename
      ... on CreateWebhookPayload { secret webhook { id url events enabled } }
      ... on ValidationError { message path }
    }
  }
`);

async function createHook(events: string[] = ['ISSUE_UPDATED', 'ISSUE_PUBLISHED', 'PAPER_UPDATED']) {
  const res = await gql(app, CreateWebhook, { input: { url: hookUrl, events: events as never } }, admin);
  const result = res.body.data!.createWebhook;
  if (result.__typename !== 'CreateWebhookPayload') throw new Error(JSON.stringify(res.body));
  return result as Extract<typeof result, { __typename: 'CreateWebhookPayload' }>;
}

async function latestIssue() {
  const res = await gql(
    app,
    graphql(`{ latestIssue { id version title sections { papers { id version } } } }`),
    {},
    editor,
  );
  return res.body.data!.latestIssue!;
}

const RenameIssue = graphql(`
  mutation Rename($input: UpdateIssueInput!) {
    updateIssue(input: $input) { __typename ... on UpdateIssuePayload { issue { version } } }
  }
`);

async function rename(title: string) {
  const issue = await latestIssue();
  const res = await gql(app, RenameIssue, { input: { id: issue.id, version: issue.version, title } }, editor);
  expect(res.body.data?.updateIssue.__typename).toBe('UpdateIssuePayload');
}

async function pendingCount(): Promise<number> {
  const [row] = await selectRows<{ n: number }>(
    tdb.db,
    sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`,
  );
  return Number(row!.n);
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('webhooks', () => {
  it('records the event with the change, posts it signed (Standard Webhooks), in commit order', async () => {
    const { secret, webhook } = await createHook();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhook.events).toEqual(['ISSUE_UPDATED', 'ISSUE_PUBLISHED', 'PAPER_UPDATED']);
    for (const t of ['first', 'second', 'third']) await rename(`Title ${t}`);
    expect(await pendingCount()).toBe(3);
    // A write that fails records nothing (its transaction rolled back).
    const issue = await latestIssue();
    const stale = await gql(app, RenameIssue, { input: { id: issue.id, version: 1, title: 'stale' } }, editor);
    expect(stale.body.data?.updateIssue.__typename).toBe('ConflictError');
    expect(await pendingCount()).toBe(3);

    startWorker();
    await until('3 deliveries', () => rx.received.length >= 3);
    await until('no pending', async () => (await pendingCount()) === 0);
    const verifier = new Webhook(secret);
    const bodies = rx.received.map((r) => {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toMatch(/^llm-papers-webhooks/);
      const verified = verifier.verify(r.body, {
        'webhook-id': r.headers['webhook-id'] as string,
        'webhook-timestamp': r.headers['webhook-timestamp'] as string,
        'webhook-signature': r.headers['webhook-signature'] as string,
      }) as { type: string; data: { issue: { title: string; slug: string } } };
      return verified;
    });
    expect(bodies.map((b) => b.type)).toEqual(['issue.updated', 'issue.updated', 'issue.updated']);
    expect(bodies.map((b) => b.data.issue.title)).toEqual(['Title first', 'Title second', 'Title third']);
    // A tampered body does not verify.
    const r0 = rx.received[0]!;
    expect(() =>
      verifier.verify(r0.body.replace('first', 'FIRST'), {
        'webhook-id': r0.headers['webhook-id'] as string,
        'webhook-timestamp': r0.headers['webhook-timestamp'] as string,
        'webhook-signature': r0.headers['webhook-signature'] as string,
      }),
    ).toThrow();
    // Distinct events have distinct ids.
    expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(3);

    const list = await gql(
      app,
      graphql(`query Hook($id: ID!) { webhook(id: $id) { failingSince deliveries(first: 2) {
        pageInfo { hasNextPage endCursor } nodes { event status attempts lastError lastStatusCode deliveredAt } } } }`),
      { id: webhook.id },
      admin,
    );
    const page = list.body.data!.webhook!.deliveries;
    expect(page.nodes).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.nodes.every((d) => d.status === 'DELIVERED' && d.attempts === 1 && d.deliveredAt && !d.lastError)).toBe(
      true,
    );
    expect(page.nodes[0]!.lastStatusCode).toBe(204);
  });

  it('sends publication, paper and category events to the endpoints that asked for them', async () => {
    await createHook(['ISSUE_PUBLISHED', 'ISSUE_UNPUBLISHED', 'PAPER_UPDATED', 'CATEGORY_UPDATED']);
    const issue = await latestIssue();
    await gql(
      app,
      graphql(`mutation U($input: UnpublishIssueInput!) { unpublishIssue(input: $input) { __typename } }`),
      { input: { id: issue.id } },
      editor,
    );
    // A draft's paper edit is not public: no event.
    const paper = issue.sections[0]!.papers[0]!;
    await gql(
      app,
      graphql(`mutation P($input: UpdatePaperInput!) { updatePaper(input: $input) { __typename } }`),
      { input: { id: paper.id, version: paper.version, title: 'Edited in draft' } },
      editor,
    );
    await gql(
      app,
      graphql(`mutation Pub($input: PublishIssueInput!) { publishIssue(input: $input) { __typename } }`),
      { input: { id: issue.id } },
      editor,
    );
    const again = (await latestIssue()).sections[0]!.papers[0]!;
    await gql(
      app,
      graphql(`mutation P2($input: UpdatePaperInput!) { updatePaper(input: $input) { __typename } }`),
      { input: { id: again.id, version: again.version, title: 'Edited when published' } },
      editor,
    );
    // Renaming the edition: issue.updated, which this endpoint did not ask for.
    await rename('Not sent');
    startWorker();
    await until('3 deliveries', () => rx.received.length >= 3);
    await until('no pending', async () => (await pendingCount()) === 0);
    const types = rx.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types).toEqual(['issue.unpublished', 'issue.published', 'paper.updated']);
  });

  it('retries 5xx and 429 (after Retry-After) until delivered; gives up on a 4xx', async () => {
    const { webhook } = await createHook(['ISSUE_UPDATED']);
    rx.setAnswer((n) =>
      n === 1 ? { status: 503 } : n === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    await rename('Retried');
    startWorker();
    await until('delivered after 3 attempts', () => rx.received.length >= 3);
    await until('no pending', async () => (await pendingCount()) === 0);
    const [second, third] = [rx.received[1]!, rx.received[2]!];
    expect(third.at - second.at).toBeGreaterThanOrEqual(950);
    expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(1);

    rx.setAnswer(() => ({ status: 400 }));
    await rename('Refused');
    await until('4th request', () => rx.received.length >= 4);
    await until('no pending', async () => (await pendingCount()) === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(4);
    const res = await gql(
      app,
      graphql(
        `query H($id: ID!) { webhook(id: $id) { failingSince deliveries(first: 5) { nodes { id status attempts lastError lastStatusCode lastResponse } } } }`,
      ),
      { id: webhook.id },
      admin,
    );
    const [refused, retried] = res.body.data!.webhook!.deliveries.nodes;
    expect(refused).toMatchObject({ status: 'FAILED', attempts: 1, lastError: 'HTTP 400', lastStatusCode: 400 });
    expect(refused!.lastResponse!.length).toBeLessThanOrEqual(1024);
    expect(retried).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 200 });
    expect(res.body.data!.webhook!.failingSince).not.toBeNull();

    // Redelivery: a new delivery of the same event (same webhook-id).
    rx.setAnswer(() => ({ status: 200 }));
    const again = await gql(
      app,
      graphql(`mutation R($input: RedeliverWebhookDeliveryInput!) { redeliverWebhookDelivery(input: $input) {
        __typename ... on RedeliverWebhookDeliveryPayload { delivery { status messageId } } } }`),
      { input: { id: refused!.id } },
      admin,
    );
    expect(again.body.data!.redeliverWebhookDelivery).toMatchObject({ delivery: { status: 'PENDING' } });
    await until('5th request', () => rx.received.length >= 5);
    expect(rx.received[4]!.headers['webhook-id']).toBe(rx.received[3]!.headers['webhook-id']);
  });

  it('disables an endpoint whose every delivery failed for longer than the limit, with the reason', async () => {
    const { webhook } = await createHook(['ISSUE_UPDATED']);
    rx.setAnswer(() => ({ status: 500 }));
    await rename('Failing');
    startWorker({ disableAfterMs: 1 });
    await until('disabled', async () => {
      const [row] = await selectRows<{ enabled: boolean }>(tdb.db, sql`SELECT enabled FROM webhooks`);
      return row!.enabled === false;
    });
    const res = await gql(
      app,
      graphql(`query D($id: ID!) { webhook(id: $id) { enabled disabledReason } }`),
      { id: webhook.id },
      admin,
    );
    expect(res.body.data!.webhook).toMatchObject({ enabled: false });
    expect(res.body.data!.webhook!.disabledReason).toMatch(/^Every delivery failed since .*; last error: HTTP 500/);
    // Disabled: no new events are recorded for it.
    await rename('Not recorded');
    const [n] = await selectRows<{ n: number }>(tdb.db, sql`SELECT count(*)::int AS n FROM webhook_deliveries`);
    expect(Number(n!.n)).toBe(1);
  });

  it('is for admins only, and validates its input', async () => {
    const input = { url: hookUrl, events: ['ISSUE_PUBLISHED' as const] };
    for (const headers of [{}, editor]) {
      const res = await gql(app, CreateWebhook, { input }, headers);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(res.body.errors?.[0]?.message).toMatch(/admin token/);
      const list = await gql(app, graphql('{ webhooks { id } }'), {}, headers);
      expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const strict = createApp({ db: tdb.db, webhookAllowPrivate: false });
    const bad: Array<[string, RegExp]> = [
      ['ftp://example.org/x', /only http and https/],
      ['not a url', /not a valid absolute URL/],
      ['https://user:pw@example.org/', /credentials/],
      ['http://127.0.0.1:9/hook', /loopback/],
      ['http://[::1]/hook', /loopback/],
      ['http://10.1.2.3/hook', /private/],
      ['http://169.254.169.254/latest/meta-data', /linkLocal/],
      ['http://[::ffff:192.168.1.1]/', /private/],
      ['http://localhost:4000/', /loopback name/],
      [`https://example.org/${'a'.repeat(2001)}`, /at most 2000 characters|at most 2 000/],
    ];
    for (const [url, why] of bad) {
      const res = await gql(strict, CreateWebhook, { input: { ...input, url } }, admin);
      const result = res.body.data!.createWebhook;
      expect(result.__typename, url).toBe('ValidationError');
      expect((result as { message: string }).message, url).toMatch(why);
    }
    const none = await gql(strict, CreateWebhook, { input: { ...input, events: [] } }, admin);
    expect(none.body.data!.createWebhook.__typename).toBe('ValidationError');
    const ok = await gql(strict, CreateWebhook, { input: { ...input, url: 'https://hooks.example.org/in' } }, admin);
    expect(ok.body.data!.createWebhook.__typename).toBe('CreateWebhookPayload');
  });

  it('answers hostile input with a typed error or a clear BAD_USER_INPUT, and writes nothing', async () => {
    const { webhook } = await createHook(['ISSUE_UPDATED']);
    const before = await selectRows<{ n: number }>(
      tdb.db,
      sql`SELECT (SELECT count(*) FROM webhooks) + (SELECT count(*) FROM webhook_deliveries) AS n`,
    );
    const issueId = (await latestIssue()).id;
    const badIds = ['', 'x', 'not base64!', issueId, 'V2ViaG9vazo5OTk5OTk', 'V2ViaG9vazotMQ', 'A'.repeat(300)];
    const Update = graphql(`mutation Up($input: UpdateWebhookInput!) { updateWebhook(input: $input) {
      __typename ... on UserError { message code } } }`);
    const Delete = graphql(`mutation Del($input: DeleteWebhookInput!) { deleteWebhook(input: $input) {
      __typename ... on UserError { message code } } }`);
    const Rotate = graphql(`mutation Rot2($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) {
      __typename ... on UserError { message code } } }`);
    const Redeliver =
      graphql(`mutation Re2($input: RedeliverWebhookDeliveryInput!) { redeliverWebhookDelivery(input: $input) {
      __typename ... on UserError { message code } } }`);
    for (const id of badIds) {
      for (const [doc, field] of [
        [Update, 'updateWebhook'],
        [Delete, 'deleteWebhook'],
        [Rotate, 'rotateWebhookSecret'],
        [Redeliver, 'redeliverWebhookDelivery'],
      ] as const) {
        const res = await gql(app, doc as typeof Delete, { input: { id } }, admin);
        const result = (res.body.data as Record<string, { __typename: string }> | undefined)?.[field];
        expect(['ValidationError', 'NotFoundError'], `${field}(${id.slice(0, 20)})`).toContain(result?.__typename);
      }
      const one = await gql(app, graphql('query One($id: ID!) { webhook(id: $id) { id } }'), { id }, admin);
      expect(one.body.errors).toBeUndefined();
      expect(one.body.data!.webhook).toBeNull();
    }
    // Field values: NUL, too long, bad URLs on update, unknown enum values, absurd page sizes and cursors.
    const updates: Array<[Record<string, unknown>, RegExp]> = [
      [{ description: 'a\u0000b' }, /NUL/],
      [{ description: 'd'.repeat(1001) }, /1 000/],
      [{ url: 'javascript:alert(1)' }, /http and https/],
      [{ url: 'http://h\u0000st/' }, /NUL|valid/],
      [{ url: '' }, /empty/],
      [{ events: [] }, /at least one/],
    ];
    for (const [fields, why] of updates) {
      const res = await gql(app, Update, { input: { id: webhook.id, ...fields } as never }, admin);
      const result = res.body.data!.updateWebhook as { __typename: string; message?: string };
      expect(result.__typename, JSON.stringify(fields)).toBe('ValidationError');
      expect(result.message, JSON.stringify(fields)).toMatch(why);
    }
    const badEnum = await gql(app, Update, { input: { id: webhook.id, events: ['ISSUE_EXPLODED' as never] } }, admin);
    expect(badEnum.body.errors?.[0]?.message).toMatch(/ISSUE_EXPLODED/);
    for (const args of [
      { first: 0 },
      { first: 101 },
      { first: -1 },
      { after: 'garbage' },
      { after: 'x'.repeat(400) },
    ]) {
      const res = await gql(
        app,
        graphql(
          'query Page($id: ID!, $first: Int, $after: String) { webhook(id: $id) { deliveries(first: $first, after: $after) { nodes { id } } } }',
        ),
        { id: webhook.id, ...args },
        admin,
      );
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(args)).toBe('BAD_USER_INPUT');
    }
    const after = await selectRows<{ n: number }>(
      tdb.db,
      sql`SELECT (SELECT count(*) FROM webhooks) + (SELECT count(*) FROM webhook_deliveries) AS n`,
    );
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
    const [row] = await selectRows<{ url: string; description: string; events: string[] }>(
      tdb.db,
      sql`SELECT url, description, events FROM webhooks`,
    );
    expect(row).toMatchObject({ url: hookUrl, description: '', events: ['issue.updated'] });
  });

  it('rotates the secret: the next delivery is signed with the new one', async () => {
    const { webhook, secret: old } = await createHook(['ISSUE_UPDATED']);
    const rotated = await gql(
      app,
      graphql(`mutation Rot($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) {
        __typename ... on RotateWebhookSecretPayload { secret } } }`),
      { input: { id: webhook.id } },
      admin,
    );
    const secret = (rotated.body.data!.rotateWebhookSecret as { secret: string }).secret;
    expect(secret).not.toBe(old);
    await rename('Rotated');
    startWorker();
    await until('delivery', () => rx.received.length >= 1);
    const r = rx.received[0]!;
    const headers = {
      'webhook-id': r.headers['webhook-id'] as string,
      'webhook-timestamp': r.headers['webhook-timestamp'] as string,
      'webhook-signature': r.headers['webhook-signature'] as string,
    };
    expect(() => new Webhook(secret).verify(r.body, headers)).not.toThrow();
    expect(() => new Webhook(old).verify(r.body, headers)).toThrow();
  });
});

describe('delivery rules (SSRF, timeouts, retry policy)', () => {
  it('refuses addresses that are not public unless allowed', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '224.0.0.1',
    ]) {
      expect(refusedAddress(a, false), a).not.toBeNull();
      expect(refusedAddress(a, true), a).toBeNull();
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'])
      expect(refusedAddress(a, false), a).toBeNull();
    expect(refusedUrl('https://hooks.example.org/x', false)).toBeNull();
    expect(refusedUrl('http://metadata.localhost/', false)).toMatch(/loopback/);
  });

  it('resolves a name once and refuses it when it resolves to a loopback address; does not follow redirects', async () => {
    const delivery = {
      url: hookUrl.replace('127.0.0.1', 'localhost'),
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      messageId: 'msg_1',
      payload: '{}',
    };
    // "localhost" is refused on its face; a name that resolves to 127.0.0.1 goes through the same check after DNS.
    const refused = await deliver(delivery, { timeoutMs: 1_000, allowPrivate: false });
    expect(refused.result.kind).toBe('refused');
    rx.setAnswer(() => ({ status: 302, headers: { location: 'http://169.254.169.254/' } }));
    const redirected = await deliver({ ...delivery, url: hookUrl }, { timeoutMs: 1_000, allowPrivate: true });
    expect(redirected.result).toMatchObject({ kind: 'response', status: 302 });
    expect(decide(redirected.result, 1)).toEqual({ result: 'failed' });
  });

  it('times out a receiver that does not answer', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const started = Date.now();
    const report = await deliver(
      { url, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', messageId: 'msg_2', payload: '{}' },
      { timeoutMs: 300, allowPrivate: true },
    );
    expect(report.result).toMatchObject({ kind: 'network', message: 'no answer within 0.3 s' });
    expect(Date.now() - started).toBeLessThan(2_000);
    silent.closeAllConnections();
    silent.close();
  });

  it('backs off exponentially with jitter, honours Retry-After, stops after 8 attempts', () => {
    const at = (attempt: number, random: number) => {
      const d = decide({ kind: 'network', message: 'ECONNREFUSED' }, attempt, { random: () => random });
      return d.result === 'retry' ? d.delayMs : null;
    };
    expect(at(1, 0.5)).toBe(5_000);
    expect(at(1, 0)).toBe(4_000);
    expect(at(1, 1)).toBe(6_000);
    expect(at(7, 0.5)).toBe(54_000_000);
    expect(at(MAX_ATTEMPTS, 0.5)).toBeNull();
    const total = [1, 2, 3, 4, 5, 6, 7].reduce((s, a) => s + at(a, 0.5)!, 0);
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(25);
    const r429 = decide({ kind: 'response', status: 429, retryAfter: '120' }, 1, { random: () => 0.5 });
    expect(r429).toEqual({ result: 'retry', delayMs: 120_000 });
    expect(decide({ kind: 'response', status: 408, retryAfter: null }, 1).result).toBe('retry');
    expect(decide({ kind: 'response', status: 404, retryAfter: null }, 1).result).toBe('failed');
    expect(decide({ kind: 'response', status: 201, retryAfter: null }, 1).result).toBe('delivered');
    expect(decide({ kind: 'refused', message: 'private' }, 1).result).toBe('failed');
  });
});
