/**
 * Webhooks from real server processes (`src/server.ts`, as `npm start` runs
 * it) to a receiver on 127.0.0.1: nothing is lost when the server is killed
 * (kill -9) between the commit and the delivery, a receiver that is down for a
 * while gets the event once it is back, and two servers on one PostgreSQL
 * deliver each event exactly once, in commit order. On PGlite (the default
 * set-up) and, when DATABASE_URL is set, on PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { createDb } from '../../src/db/client.js';
import { seedSample } from '../../src/fixtures/seed.js';
import { createThrowawayDatabase } from '../helpers/db.js';
import { type RunningServer, startServer } from '../helpers/server.js';

type Mode = 'ok' | 'hang' | 'down';

/** A receiver that records every POST; `hang` keeps requests unanswered, `down` closes the port. */
function receiver() {
  const seen: Array<{ id: string; body: { type: string; data: { issue: { title: string } } } }> = [];
  let mode: Mode = 'ok';
  const hanging: ServerResponse[] = [];
  let port = 0;
  let server: Server | null = null;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ id: String(req.headers['webhook-id']), body: JSON.parse(body) });
      if (mode === 'hang') hanging.push(res);
      else res.writeHead(204).end();
    });
  };
  return {
    seen,
    get url() {
      return `http://127.0.0.1:${port}/in`;
    },
    async start(): Promise<void> {
      server = createServer(handler);
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    },
    async stop(): Promise<void> {
      if (!server) return;
      for (const res of hanging.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server!.close(() => r()));
      server = null;
    },
    setMode(m: Mode) {
      mode = m;
    },
  };
}

const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_TIMEOUT_MS: '1500',
  WEBHOOK_POLL_MS: '100',
  WEBHOOK_RETRY_SCALE: '0.02',
  LOG_LEVEL: 'error',
  SEED_SAMPLE: 'false',
  REDIS_URL: undefined,
};

interface Target {
  name: string;
  env: Record<string, string | undefined>;
  cleanup: () => Promise<void>;
}

/** A database with the sample edition and an admin token, made before any server starts. */
async function prepare(kind: 'pglite' | 'postgres'): Promise<Target & { token: string }> {
  let env: Record<string, string | undefined>;
  let cleanup: () => Promise<void>;
  let handle: Awaited<ReturnType<typeof createDb>>;
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'webhooks-e2e-'));
    handle = await createDb({ dataDir });
    env = { DATABASE_URL: undefined, DATA_DIR: dataDir };
    cleanup = async () => rmSync(dataDir, { recursive: true, force: true });
  } else {
    const db = await createThrowawayDatabase(process.env.DATABASE_URL!);
    handle = await createDb({ url: db.url });
    env = { DATABASE_URL: db.url };
    cleanup = db.drop;
  }
  await handle.migrate();
  await seedSample(handle.db);
  const { token } = await createToken(handle.db, { name: `admin-${randomBytes(3).toString('hex')}`, scope: 'admin' });
  await handle.close();
  return { name: kind, env, cleanup, token };
}

async function call(server: RunningServer, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: whatever the server sent, read by the tests below
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

async function createHook(server: RunningServer, token: string, url: string): Promise<string> {
  const data = await call(
    server,
    token,
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
      __typename ... on CreateWebhookPayload { webhook { id } } ... on ValidationError { message } } }`,
    { input: { url, events: ['ISSUE_UPDATED'] } },
  );
  if (data.createWebhook.__typename !== 'CreateWebhookPayload') throw new Error(JSON.stringify(data));
  return data.createWebhook.webhook.id;
}

async function rename(server: RunningServer, token: string, title: string): Promise<void> {
  const { latestIssue } = await call(server, token, '{ latestIssue { id version } }');
  const data = await call(
    server,
    token,
    'mutation($input: UpdateIssueInput!) { updateIssue(input: $input) { __typename } }',
    { input: { id: latestIssue.id, version: latestIssue.version, title } },
  );
  if (data.updateIssue.__typename !== 'UpdateIssuePayload') throw new Error(JSON.stringify(data));
}

async function deliveries(server: RunningServer, token: string, hookId: string) {
  const data = await call(
    server,
    token,
    'query($id: ID!) { webhook(id: $id) { deliveries(first: 100) { nodes { status attempts lastError } } } }',
    { id: hookId },
  );
  return data.webhook.deliveries.nodes as Array<{ status: string; attempts: number; lastError: string | null }>;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const kinds: Array<'pglite' | 'postgres'> = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe.each(kinds)('webhooks from a real server (%s)', (kind) => {
  it('kill -9 between the commit and the delivery: everything is delivered after the restart, in order', async () => {
    const target = await prepare(kind);
    cleanups.push(target.cleanup);
    const rx = receiver();
    await rx.start();
    cleanups.push(() => rx.stop());
    let server = await startServer({ ...target.env, ...WEBHOOK_ENV });
    cleanups.push(() => server.stop('SIGKILL'));
    const hookId = await createHook(server, target.token, rx.url);

    // The first event is being posted (the receiver holds it) and the second waits behind it when the process dies.
    rx.setMode('hang');
    await rename(server, target.token, 'Before the crash 1');
    await until('the first post', () => rx.seen.length === 1);
    await rename(server, target.token, 'Before the crash 2');
    await server.stop('SIGKILL');
    rx.setMode('ok');

    server = await startServer({ ...target.env, ...WEBHOOK_ENV });
    await until('both delivered', async () => {
      const list = await deliveries(server, target.token, hookId);
      return list.length === 2 && list.every((d) => d.status === 'DELIVERED');
    });
    // At least once: the first event twice (its first post was never answered), then the second.
    const titles = rx.seen.map((s) => s.body.data.issue.title);
    expect(titles).toEqual(['Before the crash 1', 'Before the crash 1', 'Before the crash 2']);
    expect(rx.seen[0]!.id).toBe(rx.seen[1]!.id);
    await server.stop();
  }, 120_000);

  it('a receiver that is down for a while gets the event when it is back', async () => {
    const target = await prepare(kind);
    cleanups.push(target.cleanup);
    const rx = receiver();
    await rx.start();
    cleanups.push(() => rx.stop());
    const server = await startServer({ ...target.env, ...WEBHOOK_ENV });
    cleanups.push(() => server.stop('SIGKILL'));
    const hookId = await createHook(server, target.token, rx.url);
    await rx.stop();
    await rename(server, target.token, 'While the receiver is down');
    await until('two failed attempts', async () => {
      const [d] = await deliveries(server, target.token, hookId);
      return (d?.attempts ?? 0) >= 2 && d?.status === 'PENDING';
    });
    const [failing] = await deliveries(server, target.token, hookId);
    expect(failing!.lastError).toMatch(/ECONNREFUSED/);
    await rx.start();
    await until('delivered', async () => (await deliveries(server, target.token, hookId))[0]?.status === 'DELIVERED');
    expect(rx.seen.map((s) => s.body.data.issue.title)).toEqual(['While the receiver is down']);
    await server.stop();
  }, 120_000);
});

describe.runIf(process.env.DATABASE_URL)('two servers on one PostgreSQL', () => {
  it('deliver each event exactly once to a healthy receiver, in commit order', async () => {
    const target = await prepare('postgres');
    cleanups.push(target.cleanup);
    const rx = receiver();
    await rx.start();
    cleanups.push(() => rx.stop());
    const a = await startServer({ ...target.env, ...WEBHOOK_ENV });
    cleanups.push(() => a.stop('SIGKILL'));
    const b = await startServer({ ...target.env, ...WEBHOOK_ENV });
    cleanups.push(() => b.stop('SIGKILL'));
    const hookId = await createHook(a, target.token, rx.url);
    const n = 40;
    for (let i = 1; i <= n; i++) await rename(i % 2 ? a : b, target.token, `Edit ${i}`);
    await until(`${n} delivered`, async () => {
      const list = await deliveries(a, target.token, hookId);
      return list.length === n && list.every((d) => d.status === 'DELIVERED');
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.seen).toHaveLength(n);
    expect(new Set(rx.seen.map((s) => s.id)).size).toBe(n);
    expect(rx.seen.map((s) => s.body.data.issue.title)).toEqual(Array.from({ length: n }, (_, i) => `Edit ${i + 1}`));
    await Promise.all([a.stop(), b.stop()]);
  }, 180_000);
});
