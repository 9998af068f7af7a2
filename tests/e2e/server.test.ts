import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createThrowawayDatabase } from '../helpers/db.js';
import { startServer } from '../helpers/server.js';
import { documentText } from '../helpers/http.js';
import { type ResultOf, graphql } from '../graphql.js';

// Anonymous on purpose: the metrics below count it as operationName="Anonymous".
const LATEST = graphql(`{ latestIssue { title sections { number category { name } papers { number title } } } }`);
const QUERY = documentText(LATEST);

async function checkServer(env: Record<string, string | undefined>) {
  const server = await startServer(env);
  try {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: ResultOf<typeof LATEST> };
    const sections = body.data.latestIssue!.sections;
    expect(sections).toHaveLength(5);
    expect(sections.flatMap((s) => s.papers)).toHaveLength(15);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('x-ratelimit-limit')).toBe('5000');
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('GraphiQL');
    // observability is wired: request ids are echoed, /metrics is scraped, health endpoints answer
    const traced = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'test-req-42' },
      body: JSON.stringify({ query: 'query Probe { __typename }' }),
    });
    expect(traced.headers.get('x-request-id')).toBe('test-req-42');
    // repeated anonymous reads are answered by the response tier, before Yoga: same bytes,
    // still charged, logged (cache: "response") and counted
    const again = async (id: string) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({ query: QUERY }),
      });
    const r1 = await again('repeat-1');
    const r2 = await again('repeat-2');
    expect(await r2.text()).toBe(await r1.text());
    expect(r2.headers.get('x-request-id')).toBe('repeat-2');
    expect(Number(r2.headers.get('x-ratelimit-remaining'))).toBeLessThan(
      Number(r1.headers.get('x-ratelimit-remaining')),
    );
    const lineOf = (id: string) =>
      server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => l.requestId === id);
    // (the logger writes asynchronously)
    for (let i = 0; i < 50 && !lineOf('repeat-2'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const tierLine = lineOf('repeat-2');
    expect(tierLine).toMatchObject({
      method: 'POST',
      path: '/graphql',
      status: 200,
      cache: 'response',
      operationType: 'query',
      errorCodes: [],
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/graphql_/);
    expect(metrics).toMatch(/graphql_response_cache_hits_total\{tier="response",operationName="Anonymous"\} [1-9]/);
    // the operation series, by the operation that ran, and the HTTP duration by method and status
    expect(metrics).toMatch(/graphql_envelop_request\{operationName="Probe",operationType="query"\} 1\n/);
    expect(metrics).toMatch(/graphql_envelop_phase_execute_count\{operationName="Probe",operationType="query"\} 1\n/);
    expect(metrics).toMatch(
      /graphql_yoga_http_duration_count\{method="POST",statusCode="200",operationType="query",operationName="Probe"\} 1\n/,
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  } finally {
    const code = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(server.output()).toContain('Closed the database');
  }
}

describe('npm start (src/server.ts as a real process)', () => {
  it('on PGlite: migrates, loads the sample edition, serves it, shuts down cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llm-papers-data-'));
    try {
      await checkServer({ DATABASE_URL: undefined, DATA_DIR: dataDir });
      // a second start on the same directory keeps the data and does not seed twice
      await checkServer({ DATABASE_URL: undefined, DATA_DIR: dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'on PostgreSQL (DATABASE_URL): the same',
    async () => {
      const db = await createThrowawayDatabase(process.env.DATABASE_URL!);
      try {
        await checkServer({ DATABASE_URL: db.url });
        await checkServer({ DATABASE_URL: db.url });
      } finally {
        await db.drop();
      }
    },
    120_000,
  );

  it('exits on SIGTERM when nothing reads its output any more (a log pipe whose reader died)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llm-papers-data-'));
    try {
      const server = await startServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
      // The reading end of its stdout and stderr closes: every line written from now on fails with EPIPE.
      server.child.stdout!.destroy();
      server.child.stderr!.destroy();
      // Nothing is logged before the signal: the lines it logs on shutdown are the first to fail.
      // It used to hang at exit: pino's stream (sonic-boom 4) retried writing its last lines forever.
      const code = await Promise.race([
        server.stop('SIGTERM'),
        new Promise<string>((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000)),
      ]);
      if (code === 'still running after 15 s') server.child.kill('SIGKILL');
      expect(code).not.toBe('still running after 15 s');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('MEMORY_SOFT_LIMIT_MB: collections while over it (metric), a warning when they cannot bring memory under it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'llm-papers-data-'));
    try {
      // 64 MB: below what any server holds, so every collection leaves it over the limit
      const server = await startServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, MEMORY_SOFT_LIMIT_MB: '64' });
      try {
        const collections = async () => {
          const text = await (await fetch(`${server.url}/metrics`)).text();
          return Number(/^memory_soft_limit_collections_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
        };
        // from 5 s after the database is ready: collections 1, 2 and 4 s apart, then the warning
        const deadline = Date.now() + 45_000;
        while (!server.output().includes('stays above MEMORY_SOFT_LIMIT_MB=64') && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 250));
        expect(server.output()).toContain('stays above MEMORY_SOFT_LIMIT_MB=64 after a full garbage collection');
        expect(await collections()).toBeGreaterThanOrEqual(3);
        // backed off: no collection a second
        const before = await collections();
        await new Promise((r) => setTimeout(r, 3_000));
        expect((await collections()) - before).toBeLessThanOrEqual(1);
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
      const off = await startServer({ DATABASE_URL: undefined, DATA_DIR: dataDir, MEMORY_SOFT_LIMIT_MB: 'off' });
      try {
        expect(await (await fetch(`${off.url}/metrics`)).text()).not.toContain('memory_soft_limit_collections_total');
      } finally {
        await off.stop('SIGTERM');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses invalid configuration with a clear message', async () => {
    await expect(startServer({ PORT: 'abc' })).rejects.toThrow(/PORT/);
    await expect(startServer({ DATABASE_URL: 'mysql://x' })).rejects.toThrow(/DATABASE_URL: must start with postgres/);
  }, 60_000);
});
