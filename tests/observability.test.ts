import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createEvents } from '../src/events.js';
import { createLogger, loggingPlugin } from '../src/observability/logging.js';
import { METRIC_NAMES, dbPoolGauges, metricsPlugins } from '../src/observability/metrics.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { costOf } from './helpers/http.js';
import { createPluginApp, postJson } from './helpers/plugin-app.js';
import { sseReader, subscriptionRequest } from './helpers/sse.js';

let tdb: TestDb;
let app: ReturnType<typeof createPluginApp>;
const lines: string[] = [];
const pool = { total: 4, idle: 3, waiting: 0 };

const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});
/** One JSON log line: the fields these tests read (the logger writes others too). */
interface LogLine {
  [field: string]: unknown;
  level?: number;
  requestId?: string;
  operationName?: string | null;
  status?: number;
  errorCodes?: string[];
  errorClass?: string;
  errorMessage?: string;
  stack?: string;
  paths?: string[];
  causes?: unknown[];
  msg?: string;
}
const logs = () => lines.map((l) => JSON.parse(l) as LogLine);
const lastLog = () => logs().at(-1)!;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  const logger = createLogger('info', { destination: sink, pretty: false });
  app = createPluginApp(tdb.db, {
    before: [loggingPlugin(logger)],
    after: metricsPlugins({ registry: new Registry(), dbPool: () => pool }),
  });
});
afterAll(async () => {
  await app.events.close();
  await tdb?.destroy();
});

async function scrape(): Promise<Map<string, number>> {
  const res = await app.fetch('http://localhost/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

/** Parses the text format into `name{labels} → value` (labels in the order written). */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    expect(m, `unparsable metrics line: ${line}`).not.toBeNull();
    samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
  }
  return samples;
}

function sample(samples: Map<string, number>, name: string, labels: Record<string, string>): number {
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) return value;
  }
  return 0;
}

describe('structured logs', () => {
  it('log one JSON line per GraphQL request with request id, operation, duration, cost, status', async () => {
    lines.length = 0;
    const res = await postJson(
      app,
      { query: 'query Latest { latestIssue { title sections { number } } }' },
      { 'x-request-id': 'abc-123.X_y' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('abc-123.X_y');
    const line = lastLog();
    expect(line).toMatchObject({
      level: 30,
      requestId: 'abc-123.X_y',
      method: 'POST',
      path: '/graphql',
      operationName: 'Latest',
      operationType: 'query',
      status: 200,
      errorCodes: [],
    });
    expect(line.durationMs).toBeTypeOf('number');
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(line.cost).toBe(costOf(res.body)!.requested);
    expect(line.cost).toBeGreaterThan(0);
    expect(typeof line.time).toBe('number');
  });

  it('generate a request id when none, or an insane one, is sent', async () => {
    for (const sent of [undefined, 'has space', 'x'.repeat(101), 'semi;colon']) {
      lines.length = 0;
      const res = await postJson(
        app,
        { query: '{ latestIssue { title } }' },
        sent === undefined ? {} : { 'x-request-id': sent },
      );
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(id).not.toBe(sent);
      expect(lastLog()).toMatchObject({ requestId: id, operationName: null, status: 200 });
    }
    const a = await postJson(app, { query: '{ latestIssue { title } }' });
    const b = await postJson(app, { query: '{ latestIssue { title } }' });
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('log error codes at warn level', async () => {
    lines.length = 0;
    const res = await postJson(app, {
      query: 'query Bad { papers(first: 1000) { totalCount } }',
      operationName: 'Bad',
    });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(lastLog()).toMatchObject({ level: 40, operationName: 'Bad', errorCodes: ['BAD_USER_INPUT'] });
    lines.length = 0;
    await postJson(app, { query: '{ nope }' });
    expect(lastLog().errorCodes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(lastLog().status).toBe(400);
  });

  it('log subscriptions when their stream starts, and plain routes', async () => {
    lines.length = 0;
    const res = await app.fetch(
      'http://localhost/graphql',
      subscriptionRequest('subscription OnPublish { issuePublished { slug } }'),
    );
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const reader = sseReader(res);
    await reader.close();
    expect(logs().find((l) => l.operationName === 'OnPublish')).toMatchObject({
      operationType: 'subscription',
      streaming: true,
      status: 200,
    });
    lines.length = 0;
    await app.fetch('http://localhost/nowhere');
    expect(lastLog()).toMatchObject({ method: 'GET', path: '/nowhere', status: 404 });
    expect(lastLog().operationName).toBeUndefined();
  });

  it('never print the authorization header', () => {
    const out: string[] = [];
    const logger = createLogger('info', {
      pretty: false,
      destination: new Writable({ write: (c, _e, d) => (out.push(String(c)), d()) }),
    });
    logger.info({ headers: { authorization: 'Bearer llmp_secret' } }, 'x');
    expect(out.join('')).not.toContain('llmp_secret');
  });
});

describe('masked errors ("Unexpected error.")', () => {
  /** An app as the server builds it (createApp's masking), logging into `out`. */
  function appLoggingTo(out: string[]) {
    const logger = createLogger('info', {
      pretty: false,
      destination: new Writable({ write: (c, _e, d) => (out.push(...String(c).split('\n').filter(Boolean)), d()) }),
    });
    return createApp({ db: tdb.db, observability: [loggingPlugin(logger)] });
  }
  const maskedLines = (out: string[]) =>
    out.map((l) => JSON.parse(l) as LogLine).filter((l) => l.errorClass !== undefined);

  /** Runs `query` while a table its resolvers need is missing: every statement on it fails, unexpectedly. */
  async function withoutPapersTable<T>(fn: () => Promise<T>): Promise<T> {
    await tdb.db.execute(sql.raw('ALTER TABLE papers RENAME TO papers_hidden'));
    try {
      return await fn();
    } finally {
      await tdb.db.execute(sql.raw('ALTER TABLE papers_hidden RENAME TO papers'));
    }
  }

  it('are logged once, at error level, with request id, operation, error class and stack — none of it sent', async () => {
    const out: string[] = [];
    const app = appLoggingTo(out);
    const res = await withoutPapersTable(() =>
      postJson(
        app,
        {
          query: 'query BrokenPaper { paper(issue: "2025-05-05", number: "1.1") { title } }',
          operationName: 'BrokenPaper',
        },
        { 'x-request-id': 'masked-1' },
      ),
    );
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });

    const lines = maskedLines(out);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({
      level: 50,
      requestId: 'masked-1',
      operationName: 'BrokenPaper',
      operationType: 'query',
      paths: ['paper'],
      errorClass: 'DrizzleQueryError',
    });
    expect(line.errorMessage).toMatch(/^Failed query: /);
    expect(line.stack).toMatch(/^Error: Failed query: [\s\S]*\n\s+at /);
    // the driver's error inside Drizzle's says what went wrong
    expect(line.causes?.[0]).toMatchObject({ code: '42P01', message: expect.stringContaining('papers') });
    expect(line.msg).toContain('BrokenPaper');

    // the request's own line is there too, and the client got none of the details
    expect(
      out.map((l) => JSON.parse(l)).filter((l) => l.requestId === 'masked-1' && l.errorClass === undefined),
    ).toHaveLength(1);
    const sent = JSON.stringify(res.body);
    expect(sent).not.toContain('Failed query');
    expect(sent).not.toContain('DrizzleQueryError');
    expect(sent).not.toContain('papers" does not exist');
    expect(sent).not.toContain(line.stack!.split('\n')[1]!.trim());
    expect(sent).not.toMatch(/\bat .*\.[jt]s:\d+/);
  });

  it('one line per error thrown, listing every field it failed', async () => {
    const out: string[] = [];
    const app = appLoggingTo(out);
    // both counts wait on one load (a loader): one statement fails, and two fields with it
    const counts = 'a: issue(slug: "2025-05-05") { paperCount } b: issue(slug: "2025-05-05") { paperCount }';
    // and two other statements fail on their own
    const lookups =
      'c: paper(issue: "2025-05-05", number: "1.1") { title } d: paper(issue: "2025-05-05", number: "1.2") { title }';
    const res = await withoutPapersTable(() =>
      postJson(app, { query: `query Several { ${counts} ${lookups} }` }, { 'x-request-id': 'masked-2' }),
    );
    expect(res.body.errors!.map((e) => (e as unknown as { path: unknown[] }).path.join('.')).sort()).toEqual([
      'a.paperCount',
      'b.paperCount',
      'c',
      'd',
    ]);
    expect(res.body.errors!.every((e) => e.message === 'Unexpected error.')).toBe(true);
    const lines = maskedLines(out);
    expect(lines.map((l) => l.paths!.join(' ')).sort()).toEqual(['a.paperCount b.paperCount', 'c', 'd']);
    expect(lines.every((l) => l.requestId === 'masked-2' && l.operationName === 'Several' && l.level === 50)).toBe(
      true,
    );
  });

  it('in a subscription, as each event is sent', async () => {
    const out: string[] = [];
    const logger = createLogger('info', {
      pretty: false,
      destination: new Writable({ write: (c, _e, d) => (out.push(...String(c).split('\n').filter(Boolean)), d()) }),
    });
    const events = createEvents();
    const app = createApp({ db: tdb.db, events, observability: [loggingPlugin(logger)] });
    const { rows } = (await tdb.db.execute(sql.raw(`SELECT id FROM issues WHERE slug = '2025-05-05'`))) as unknown as {
      rows: Array<{ id: number }>;
    };
    const res = await app.fetch(
      'http://localhost/graphql',
      subscriptionRequest(
        'subscription Watch { issuePublished { slug paperCount } }',
        {},
        { 'x-request-id': 'masked-sse' },
      ),
    );
    const stream = sseReader(res);
    try {
      const pending = stream.next(); // the subscription starts when the stream is read
      await new Promise((resolve) => setTimeout(resolve, 100));
      const event = await withoutPapersTable(async () => {
        events.publish('issuePublished', { issueId: Number(rows[0]!.id) });
        return pending;
      });
      expect(event.errors).toEqual([
        expect.objectContaining({ message: 'Unexpected error.', path: ['issuePublished', 'paperCount'] }),
      ]);
      expect(JSON.stringify(event)).not.toContain('Failed query');
    } finally {
      await stream.close();
    }
    const lines = maskedLines(out);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      requestId: 'masked-sse',
      operationName: 'Watch',
      operationType: 'subscription',
      paths: ['issuePublished.paperCount'],
      errorClass: 'DrizzleQueryError',
    });
    expect(lines[0]!.stack).toContain('Failed query');
  });

  it('expected errors (with a code of their own) are not logged as masked', async () => {
    const out: string[] = [];
    const app = appLoggingTo(out);
    const bad = await postJson(app, { query: 'query Bad { papers(first: 1000) { totalCount } }' });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await postJson(app, { query: '{ nope }' });
    expect(missing.status).toBe(400);
    expect(out.length).toBeGreaterThanOrEqual(2);
    expect(maskedLines(out)).toEqual([]);
  });
});

describe('/metrics', () => {
  it('counts requests by operation name and errors by code, with durations and pool gauges', async () => {
    const before = await scrape();
    for (const name of [
      METRIC_NAMES.requests,
      `${METRIC_NAMES.requestDuration}_bucket`,
      `${METRIC_NAMES.httpDuration}_bucket`,
      METRIC_NAMES.dbPoolTotal,
      METRIC_NAMES.dbPoolIdle,
      METRIC_NAMES.dbPoolWaiting,
      'process_cpu_user_seconds_total',
    ]) {
      expect(
        [...before.keys()].some((k) => k === name || k.startsWith(`${name}{`)),
        name,
      ).toBe(true);
    }
    const count = (s: Map<string, number>) =>
      sample(s, METRIC_NAMES.requests, { operationName: 'MetricsProbe', operationType: 'query' });
    const errs = (s: Map<string, number>) =>
      sample(s, METRIC_NAMES.errorsByCode, { code: 'BAD_USER_INPUT', operationName: 'MetricsBad' });

    await postJson(app, { query: 'query MetricsProbe { latestIssue { title } }' });
    await postJson(app, { query: 'query MetricsProbe { latestIssue { slug } }' });
    await postJson(app, { query: 'query MetricsBad { papers(first: 0) { totalCount } }' });
    pool.total = 7;
    pool.waiting = 2;

    const after = await scrape();
    expect(count(after) - count(before)).toBe(2);
    expect(errs(after) - errs(before)).toBe(1);
    expect(sample(after, `${METRIC_NAMES.requestDuration}_count`, { operationName: 'MetricsProbe' })).toBe(2);
    expect(
      sample(after, `${METRIC_NAMES.httpDuration}_count`, { operationName: 'MetricsProbe', statusCode: '200' }),
    ).toBe(2);
    expect(after.get(METRIC_NAMES.dbPoolTotal)).toBe(7);
    expect(after.get(METRIC_NAMES.dbPoolIdle)).toBe(3);
    expect(after.get(METRIC_NAMES.dbPoolWaiting)).toBe(2);
    // No series carries a full URL.
    expect([...after.keys()].some((k) => k.includes('url="'))).toBe(false);
  });

  it('label each phase: parse, validate and execute errors (with the path), the selected operation, never client text', async () => {
    const errorResult = (s: Map<string, number>, labels: Record<string, string>) =>
      sample(s, 'graphql_envelop_error_result', labels);
    const before = await scrape();
    await postJson(app, { query: '{ latestIssue { title }' });
    await postJson(app, { query: 'query MetricsInvalid { nope }' });
    await postJson(app, { query: 'query MetricsBadArg { papers(first: 0) { totalCount } }' });
    await postJson(app, {
      query: 'query MetricsA { latestIssue { slug } } query MetricsB { latestIssue { title } }',
      operationName: 'MetricsB',
    });
    await postJson(app, { query: 'query MetricsC { latestIssue { slug } }', operationName: 'x" } 1\nevil{' });
    const after = await scrape();
    const parse = { operationName: 'Anonymous', operationType: 'unknown', phase: 'parse' };
    expect(errorResult(after, parse) - errorResult(before, parse)).toBe(1);
    expect(errorResult(after, { operationName: 'MetricsInvalid', operationType: 'query', phase: 'validate' })).toBe(1);
    expect(
      errorResult(after, { operationName: 'MetricsBadArg', operationType: 'query', phase: 'execute', path: 'papers' }),
    ).toBe(1);
    for (const name of [METRIC_NAMES.requests, `${METRIC_NAMES.requestDuration}_count`]) {
      expect(sample(after, name, { operationName: 'MetricsB', operationType: 'query' })).toBe(1);
      expect(sample(after, name, { operationName: 'MetricsA' })).toBe(0);
    }
    expect(sample(after, 'graphql_envelop_phase_execute_count', { operationName: 'MetricsBadArg' })).toBe(1);
    expect(sample(after, `${METRIC_NAMES.httpDuration}_count`, { operationName: 'MetricsInvalid' })).toBe(1);
    expect([...after.keys()].some((k) => k.includes('evil') || k.includes('MetricsC'))).toBe(false);
  });

  it('dbPoolGauges works on any registry', async () => {
    const registry = new Registry();
    dbPoolGauges(registry, () => ({ total: 1, idle: 0, waiting: 5 }));
    const samples = parsePrometheus(await registry.metrics());
    expect(samples.get(METRIC_NAMES.dbPoolWaiting)).toBe(5);
  });
});

describe('with persisted operations only', () => {
  it('log and count the rejections', async () => {
    const { persistedOperations } = await import('../src/http/pipeline/persisted.js');
    const registry = new Registry();
    const out: string[] = [];
    const logger = createLogger('info', {
      pretty: false,
      destination: new Writable({ write: (c, _e, d) => (out.push(String(c)), d()) }),
    });
    const strict = createPluginApp(tdb.db, {
      before: [loggingPlugin(logger)],
      after: [...metricsPlugins({ registry, processMetrics: false }), ...persistedOperations('only')],
    });
    const res = await postJson(strict, { query: 'query Sneaky { latestIssue { intro } }' });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    const line = JSON.parse(out.at(-1)!);
    expect(line).toMatchObject({ status: 400, operationName: null, errorCodes: ['PERSISTED_QUERY_ONLY'] });
    const samples = parsePrometheus(await registry.metrics());
    expect(sample(samples, METRIC_NAMES.errorsByCode, { code: 'PERSISTED_QUERY_ONLY' })).toBe(1);
    await strict.events.close();
  });
});

it('/metrics can require a bearer token', async () => {
  const guarded = createPluginApp(tdb.db, { after: metricsPlugins({ processMetrics: false, bearerToken: 's3cret' }) });
  expect((await guarded.fetch('http://localhost/metrics')).status).toBe(401);
  expect(
    (await guarded.fetch('http://localhost/metrics', { headers: { authorization: 'Bearer wrong!' } })).status,
  ).toBe(401);
  const ok = await guarded.fetch('http://localhost/metrics', { headers: { authorization: 'Bearer s3cret' } });
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('graphql_errors_total');
  await guarded.events.close();
});
