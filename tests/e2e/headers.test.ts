/**
 * nosniff and the CSP on what a real server process answers: `npm start`'s
 * server on PGlite, and a server whose database refuses connections (health,
 * 503s). The same headers from the app alone are in tests/hostile/html.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/http/pipeline/security-headers.js';
import { type RunningServer, repoRoot, startServer } from '../helpers/server.js';

function expectLocked(res: { headers: Headers }, what: string) {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('content-security-policy'), what).toBe(CONTENT_SECURITY_POLICY);
}

describe('nosniff and the CSP (real server)', () => {
  let server: RunningServer | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'html-headers-'));
    server = await startServer({
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      DATA_DIR: dataDir,
      SEED_SAMPLE: 'true',
      LOG_LEVEL: 'silent',
    });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are on health answers, 413s, reads (also those the response tier replays) and feeds', async () => {
    const url = server!.url;
    for (const p of ['/healthz', '/readyz']) {
      const res = await fetch(`${url}${p}`);
      expect(res.status, p).toBe(200);
      expectLocked(res, p);
      const head = await fetch(`${url}${p}`, { method: 'HEAD' });
      expectLocked(head, `HEAD ${p}`);
    }
    const big = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(1_000_001),
    });
    expect(big.status).toBe(413);
    expectLocked(big, '413');
    for (let n = 0; n < 4; n++) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ latestIssue { title } }' }),
      });
      expect(res.status).toBe(200);
      expectLocked(res, `read ${n + 1}`);
    }
    for (const p of ['/feeds/issues.rss', '/feeds/issues.json', '/issues/2025-05-05.md', '/nope'])
      expectLocked(await fetch(`${url}${p}`), p);
  });

  it('GraphiQL (page and assets) gets nosniff but not the restrictive CSP', async () => {
    const page = await fetch(`${server!.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('content-security-policy')).toBeNull();
    const html = await page.text();
    const script = /src="(graphiql\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${server!.url}/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    expect(asset.headers.get('content-security-policy')).toBeNull();
    await asset.arrayBuffer();
    // The same endpoint asked for JSON is locked down.
    expectLocked(
      await fetch(`${server!.url}/graphql?query=%7B__typename%7D`, {
        headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
      }),
      'GET JSON',
    );
  }, 120_000);
});

describe('nosniff and the CSP (server without its database)', () => {
  let child: ChildProcess | undefined;
  let url: string;

  beforeAll(async () => {
    // A database that refuses connections: the server listens, answers health and 503s while it retries.
    child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres',
        REDIS_URL: '',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not listen:\n${out}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d;
        const m = /Listening on port (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', () => reject(new Error(`server exited:\n${out}`)));
    });
  }, 90_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('are on /healthz, /readyz (503) and the 503 for GraphQL', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expectLocked(health, '/healthz');
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expectLocked(ready, '/readyz');
    const unavailable = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(unavailable.status).toBe(503);
    expectLocked(unavailable, '503');
  });
});
