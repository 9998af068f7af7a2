import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, repoRoot, startServer } from '../helpers/server.js';

// GraphiQL as a person uses it: the real server (npm start, on PGlite with the
// sample edition), Debian's headless Chromium, the run button, the result.
// The machine has no internet, so this also proves GraphiQL needs no CDN.
const CHROMIUM = '/usr/bin/chromium';
const ISSUE_TITLE = 'Important LLM Papers for the Week From 05/05 to 11/05';
const SCREENSHOT = path.join(repoRoot, 'tests', 'artifacts', 'graphiql.png');

describe.skipIf(!existsSync(CHROMIUM))(`GraphiQL in a browser (skipped when ${CHROMIUM} is missing)`, () => {
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'llm-papers-graphiql-'));
    server = await startServer({
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      DATA_DIR: dataDir,
      SEED_SAMPLE: 'true',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) expect(await server.stop('SIGTERM')).toBe(0);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves GraphiQL from the server itself, without a CDN', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    // graphql-yoga's built-in page loads GraphiQL from unpkg.com; src/http/routes/graphiql.ts
    // serves @graphql-yoga/render-graphiql's bundle from the server itself.
    expect(html, 'GraphiQL page loads from a CDN: see src/http/routes/graphiql.ts').not.toMatch(/https:\/\/unpkg\.com/);
    // a small page; the bundle comes as hashed, immutable, compressed assets
    expect(Buffer.byteLength(html)).toBeLessThan(50_000);
    expect(html).toMatch(/graphiql\/graphiql\.[0-9a-f]{16}\.js/);
  });

  it('runs the default query and shows the latest edition', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    // Nothing may leave the machine: anything not served by our server is refused (and reported).
    const external: string[] = [];
    // What the browser downloads from the server for GraphiQL (page, scripts, style, Monaco's workers).
    const assets: Array<{ url: string; status: number; cacheControl?: string; encoding?: string }> = [];
    context.on('response', (response) => {
      const url = new URL(response.url());
      if (!url.pathname.startsWith('/graphiql/')) return;
      const headers = response.headers();
      assets.push({
        url: url.pathname,
        status: response.status(),
        cacheControl: headers['cache-control'],
        encoding: headers['content-encoding'],
      });
    });
    await context.route(
      (url) => url.origin !== new URL(server.url).origin,
      (route) => {
        external.push(route.request().url());
        return route.abort('blockedbyclient');
      },
    );
    try {
      await page.goto(`${server.url}/graphql`, { waitUntil: 'load' });
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
      await queryEditor.waitFor({ state: 'visible', timeout: 30_000 });
      await expect.poll(() => queryEditor.innerText(), { timeout: 15_000 }).toContain('latestIssue');

      const run = page.getByRole('button', { name: /^Execute query/ });
      await run.click();

      // Monaco shows spaces as U+00A0 and soft-wraps long lines: compare without whitespace.
      const squash = (t: string) => t.replace(/[\s\u00a0]+/g, '');
      const response = page.locator('.graphiql-response');
      await expect
        .poll(async () => squash(await response.innerText()), {
          timeout: 30_000,
          message: `no edition title in the response pane (${[...problems, ...external].join('; ')})`,
        })
        .toContain(squash(`"title": "${ISSUE_TITLE}"`));
      const shown = squash(await response.innerText());
      expect(shown).toContain(squash('"weekStart": "2025-05-05"'));
      expect(shown).not.toContain('"errors"');

      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      expect(external, 'GraphiQL tried to load resources from outside the server').toEqual([]);
      const paths = assets.map((a) => a.url);
      expect(
        paths.some((p) => /\/graphiql\/graphiql\.[0-9a-f]{16}\.js$/.test(p)),
        paths.join(' '),
      ).toBe(true);
      expect(
        paths.some((p) => /\/graphiql\/graphiql\.[0-9a-f]{16}\.css$/.test(p)),
        paths.join(' '),
      ).toBe(true);
      for (const a of assets) {
        expect(a.status, a.url).toBe(200);
        expect(a.cacheControl, a.url).toBe('public, max-age=31536000, immutable');
        if (!a.url.endsWith('.ico')) expect(a.encoding, a.url).toBe('br');
      }
      console.info(`[graphiql.browser] assets: ${paths.join(', ')}`);
    } finally {
      await context.close();
    }
  }, 90_000);
});
