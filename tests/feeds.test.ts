import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { ensureCategories } from '../src/db/queries/issue-content.js';
import { selectRows } from '../src/db/queries/util.js';
import { categoryAliases } from '../src/db/schema.js';
import { seedSample } from '../src/fixtures/seed.js';
import { type BuiltFeed, renderFeed } from '../src/feeds/build.js';
import { markdownToHtml } from '../src/feeds/html.js';
import { SiteLinks } from '../src/feeds/links.js';
import { schema } from '../src/graphql/schema.js';
import { CATEGORY_FEED_SIZE, ISSUES_FEED_SIZE, feedRoutes } from '../src/http/routes/feeds.js';
import { markdownRoutes } from '../src/http/routes/markdown.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { gql } from './helpers/http.js';
import { graphql } from './graphql.js';

// The archive: the sample edition (2025-05-05, published), 25 generated
// published editions before it (2024-01-01 … 2024-06-17, 15 papers each, 3 per
// category), and one newer DRAFT edition (2025-06-02) in the same categories.
const BASE = 'https://example.org';
const SAMPLE_TITLE = 'Important LLM Papers for the Week From 05/05 to 11/05';
/** What every link of feed HTML carries. */
const REL = 'nofollow noopener noreferrer';
const DRAFT_SLUG = 'gen-2025-06-02';

let tdb: TestDb;
let app: App;
let feeds: { fetch: (path: string, init?: RequestInit) => Promise<Response> };

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  await generateArchive(tdb.db, { editions: 25, papersPerIssue: 15, firstWeek: '2024-01-01', categories: 5, seed: 3 });
  await generateArchive(tdb.db, {
    editions: 1,
    papersPerIssue: 10,
    firstWeek: '2025-06-02',
    categories: 5,
    status: 'draft',
    seed: 9,
  });
  app = createApp({ db: tdb.db });
  // src/app.ts is wired by the lead; the routes are tested on a Yoga of their own.
  const yoga = createYoga({
    schema,
    plugins: [feedRoutes(tdb.db, { baseUrl: BASE }), markdownRoutes(tdb.db)],
    logging: false,
  });
  feeds = { fetch: async (path, init = {}) => yoga.fetch(`http://localhost${path}`, init) };
});
afterAll(async () => {
  await tdb?.destroy();
});

const parserFor = (arrays: string[]) =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    isArray: (name) => arrays.includes(name),
  });
const rssParser = parserFor(['item', 'category', 'atom:link']);
const atomParser = parserFor(['entry', 'link', 'category']);

/** An element with attributes: its text, if any, and its attributes as `@_name`. */
type XmlElement = { '#text'?: string } & { [attribute: `@_${string}`]: string | undefined };

// The parts of the three formats these tests read (fast-xml-parser's output is untyped).
interface RssItem {
  title: string;
  link: string;
  guid: XmlElement;
  pubDate: string;
  description: string;
  'content:encoded': string;
}
interface RssDocument {
  rss: XmlElement & {
    channel: {
      title: string;
      link: string;
      description: string;
      lastBuildDate: string;
      'atom:link': XmlElement[];
      item?: RssItem[];
    };
  };
}
interface AtomEntry {
  id: string;
  title: XmlElement;
  updated: string;
  published: string;
  link: XmlElement[];
  content: XmlElement;
  category: XmlElement[];
}
interface AtomDocument {
  feed: XmlElement & {
    id: string;
    title: string;
    updated: string;
    author: { name: string };
    link: XmlElement[];
    entry?: AtomEntry[];
  };
}
interface JsonFeedItem {
  id: string;
  url: string;
  title: string;
  summary: string;
  content_html: string;
  date_published: string;
  date_modified: string;
  tags: string[];
}
interface JsonFeed {
  version: string;
  title: string;
  home_page_url: string;
  feed_url: string;
  authors: Array<{ name: string; url: string }>;
  author?: unknown;
  items: JsonFeedItem[];
}

/** Checks well-formedness, then parses an RSS document. */
function rssOf(body: string): RssDocument {
  expect(XMLValidator.validate(body)).toBe(true);
  expect(body).toContain('<rss');
  return rssParser.parse(body) as RssDocument;
}

/** Checks well-formedness, then parses an Atom document. */
function atomOf(body: string): AtomDocument {
  expect(XMLValidator.validate(body)).toBe(true);
  expect(body).not.toContain('<rss');
  return atomParser.parse(body) as AtomDocument;
}

const jsonFeedOf = (body: string) => JSON.parse(body) as JsonFeed;

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await feeds.fetch(path, { headers });
  return { res, body: await res.text() };
}

/** The text of an element that may carry attributes. */
const text = (node: XmlElement | string | undefined): string =>
  typeof node === 'object' && node !== null ? String(node['#text'] ?? '') : String(node);

function expectNonIncreasing(dates: number[]) {
  expect(dates.every((d) => !Number.isNaN(d))).toBe(true);
  for (let i = 1; i < dates.length; i++) expect(dates[i]!).toBeLessThanOrEqual(dates[i - 1]!);
}

describe('GET /feeds/issues.rss', () => {
  it('is RSS 2.0 with the channel elements and the latest 20 published editions, newest first', async () => {
    const { res, body } = await get('/feeds/issues.rss');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const doc = rssOf(body);
    expect(doc.rss['@_version']).toBe('2.0');
    const channel = doc.rss.channel;
    expect(channel.title).toBe('Important LLM Papers for the Week');
    expect(channel.link).toBe(`${BASE}/`);
    expect(channel.description).toMatch(/newest first/);
    expect(channel['atom:link'][0]!['@_href']).toBe(`${BASE}/feeds/issues.rss`);
    expect(channel['atom:link'][0]!['@_rel']).toBe('self');

    const items = channel.item!;
    expect(items).toHaveLength(ISSUES_FEED_SIZE);
    for (const item of items) {
      expect(text(item.guid)).toMatch(/^tag:example\.org,2025:issue\/[a-z0-9-]+$/);
      expect(item.guid['@_isPermaLink']).toBe('false');
      expect(item.link).toMatch(/^https:\/\/example\.org\/issues\/[a-z0-9-]+\.md$/);
      expect(new Date(item.pubDate).toUTCString()).toBe(item.pubDate);
    }
    expectNonIncreasing(items.map((i) => Date.parse(i.pubDate)));
    expect(items[0]!.title).toBe(SAMPLE_TITLE);
    expect(items[0]!.pubDate).toBe('Mon, 12 May 2025 08:00:00 GMT');
    expect(items[0]!.link).toBe(`${BASE}/issues/2025-05-05.md`);
    expect(items[1]!.link).toBe(`${BASE}/issues/gen-2024-06-17.md`);
    expect(items.at(-1)!.link).toBe(`${BASE}/issues/gen-2024-02-12.md`);
    expect(body).not.toContain(DRAFT_SLUG);
    expect(body).not.toContain('2025-06-02');
  });

  it('carries the edition as HTML rendered from its Markdown', async () => {
    const { body } = await get('/feeds/issues.rss');
    const html: string = rssOf(body).rss.channel.item![0]!['content:encoded'];
    expect(html).toContain('<p>Voila is an open family of voice-language foundation models');
    expect(html).toMatch(/<p>Highlights:<\/p>\s*<ul>\s*<li>Persona control through plain text instructions/);
    expect(html).toContain('<h2>2. LLM Reasoning</h2>');
    expect(html).toContain(
      `<h3><a href="${BASE}/issues/2025-05-05/papers/2.3.md" rel="${REL}">2.3. RM-R1: Reward Modeling as Reasoning</a></h3>`,
    );
    expect(html).toContain(`<a href="https://arxiv.org/abs/2505.02387" rel="${REL}">2505.02387</a>`);
    expect(html).toContain('LLM Progress &amp; Technical Reports');
    expect(html).not.toMatch(/<!--|\\\[/); // no export-format comments or escapes
  });
});

describe('GET /feeds/issues.atom', () => {
  it('is Atom 1.0 with feed id/title/updated and entries with id/title/updated/link, newest first', async () => {
    const { res, body } = await get('/feeds/issues.atom');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const feed = atomOf(body).feed;
    expect(feed['@_xmlns']).toBe('http://www.w3.org/2005/Atom');
    expect(feed.id).toBe('tag:example.org,2025:feed/issues');
    expect(feed.title).toBe('Important LLM Papers for the Week');
    expect(Number.isNaN(Date.parse(feed.updated))).toBe(false);
    expect(feed.author.name).toBe('Important LLM Papers for the Week');
    const feedLinks = Object.fromEntries(feed.link.map((l) => [l['@_rel'], l['@_href']]));
    expect(feedLinks).toEqual({ alternate: `${BASE}/`, self: `${BASE}/feeds/issues.atom` });

    const entries = feed.entry!;
    expect(entries).toHaveLength(ISSUES_FEED_SIZE);
    for (const e of entries) {
      expect(e.id).toMatch(/^tag:example\.org,2025:issue\//);
      expect(text(e.title)).toMatch(/^Important LLM Papers for the Week/);
      expect(Number.isNaN(Date.parse(e.updated))).toBe(false);
      expect(Date.parse(e.updated)).toBeGreaterThanOrEqual(Date.parse(e.published));
      expect(e.link[0]!['@_href']).toMatch(/^https:\/\/example\.org\/issues\/[a-z0-9-]+\.md$/);
      expect(e.content['@_type']).toBe('html');
    }
    expect(Date.parse(feed.updated)).toBe(Math.max(...entries.map((e) => Date.parse(e.updated))));
    expectNonIncreasing(entries.map((e) => Date.parse(e.published)));
    expect(text(entries[0]!.title)).toBe(SAMPLE_TITLE);
    expect(entries[0]!.id).toBe('tag:example.org,2025:issue/2025-05-05');
    expect(entries[0]!.published).toBe('2025-05-12T08:00:00.000Z');
    expect(text(entries[0]!.content)).toMatch(/<p>Highlights:<\/p>\s*<ul>\s*<li>/);
    expect(entries[0]!.category.map((c) => c['@_term'])).toEqual([
      'llm-progress-technical-reports',
      'llm-reasoning',
      'llm-training-fine-tuning',
      'vision-language-models',
      'llm-evaluation',
    ]);
    expect(body).not.toContain(DRAFT_SLUG);
  });

  it('gives the same entries, in the same order, as the GraphQL API', async () => {
    const res = await gql(app, graphql(`{ issues(first: 20) { nodes { slug title } } }`));
    expect(res.body.errors).toBeUndefined();
    const api = res.body.data!.issues.nodes;
    const entries = atomOf((await get('/feeds/issues.atom')).body).feed.entry!;
    expect(entries.map((e) => e.id)).toEqual(api.map((n) => `tag:example.org,2025:issue/${n.slug}`));
    expect(entries.map((e) => text(e.title))).toEqual(api.map((n) => n.title));
  });
});

describe('GET /feeds/issues.json', () => {
  it('is JSON Feed 1.1 with ids and HTML content, newest first', async () => {
    const { res, body } = await get('/feeds/issues.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const feed = jsonFeedOf(body);
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.title).toBe('Important LLM Papers for the Week');
    expect(feed.home_page_url).toBe(`${BASE}/`);
    expect(feed.feed_url).toBe(`${BASE}/feeds/issues.json`);
    expect(feed.authors).toEqual([{ name: 'Important LLM Papers for the Week', url: `${BASE}/` }]);
    expect(feed.author).toBeUndefined();
    expect(feed.items).toHaveLength(ISSUES_FEED_SIZE);
    for (const item of feed.items) {
      expect(typeof item.id).toBe('string');
      expect(item.id).toMatch(/^tag:example\.org,2025:issue\//);
      expect(item.url).toMatch(/^https:\/\/example\.org\/issues\/[a-z0-9-]+\.md$/);
      expect(item.content_html).toMatch(/^<p>/);
      expect(Number.isNaN(Date.parse(item.date_published))).toBe(false);
      expect(Number.isNaN(Date.parse(item.date_modified))).toBe(false);
    }
    expectNonIncreasing(feed.items.map((i) => Date.parse(i.date_published)));
    expect(feed.items[0]!.title).toBe(SAMPLE_TITLE);
    expect(feed.items[0]!.summary).toBe(
      'Stay Updated with Recent Large Language Models Research — 15 papers in 5 categories, week of 2025-05-05 to 2025-05-11.',
    );
    expect(feed.items[0]!.tags).toContain('LLM Progress & Technical Reports');
    expect(feed.items[0]!.content_html).toMatch(/<ul>\s*<li>/);
    expect(body).not.toContain(DRAFT_SLUG);
  });
});

describe('GET /feeds/categories/{slug}.*', () => {
  it('RSS: the latest 50 papers of the category from published editions, newest first', async () => {
    const { res, body } = await get('/feeds/categories/llm-reasoning.rss');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const channel = rssOf(body).rss.channel;
    expect(channel.title).toBe('Important LLM Papers for the Week: LLM Reasoning');
    expect(channel.link).toBe(`${BASE}/`);
    expect(channel.description).toBe(
      'Work on how language models plan, think step by step, call tools and crack hard problems.',
    );
    const items = channel.item!;
    expect(items).toHaveLength(CATEGORY_FEED_SIZE);
    for (const item of items) {
      expect(text(item.guid)).toMatch(/^tag:example\.org,2025:issue\/[a-z0-9-]+\/paper\/\d+\.\d+$/);
      expect(item.link).toMatch(/^https:\/\/example\.org\/issues\/[a-z0-9-]+\/papers\/\d+\.\d+\.md$/);
      expect(item.pubDate).toBeTruthy();
    }
    expectNonIncreasing(items.map((i) => Date.parse(i.pubDate)));
    // The sample's six reasoning papers come first, by number.
    expect(items.slice(0, 6).map((i) => i.link)).toEqual(
      ['2.1', '2.2', '2.3', '2.4', '2.5', '2.6'].map((n) => `${BASE}/issues/2025-05-05/papers/${n}.md`),
    );
    expect(items[2]!.title).toBe('RM-R1: Reward Modeling as Reasoning');
    expect(items[2]!['content:encoded']).toMatch(/<p>RM-R1 treats reward modeling as a reasoning problem/);
    expect(items[2]!['content:encoded']).toMatch(/<ul>\s*<li>Distilling high-quality reasoning traces<\/li>/);
    expect(body).not.toContain(DRAFT_SLUG);
  });

  it('Atom and JSON Feed: the same entries', async () => {
    const atom = atomOf((await get('/feeds/categories/llm-reasoning.atom')).body).feed;
    expect(atom.id).toBe('tag:example.org,2025:feed/category/llm-reasoning');
    expect(atom.title).toBe('Important LLM Papers for the Week: LLM Reasoning');
    expect(atom.updated).toBeTruthy();
    expect(atom.entry).toHaveLength(CATEGORY_FEED_SIZE);
    for (const e of atom.entry!) {
      expect(e.id && text(e.title) && e.updated && e.link[0]!['@_href']).toBeTruthy();
      expect(e.category[0]!['@_term']).toBe('llm-reasoning');
    }
    const json = jsonFeedOf((await get('/feeds/categories/llm-reasoning.json')).body);
    expect(json.version).toBe('https://jsonfeed.org/version/1.1');
    expect(json.title).toBe('Important LLM Papers for the Week: LLM Reasoning');
    expect(json.items.map((i) => i.id)).toEqual(atom.entry!.map((e) => e.id));
    expect(json.items[2]!.content_html).toContain(
      `<p>From <a href="https://example.org/issues/2025-05-05.md" rel="${REL}">`,
    );
  });

  it('a category without published papers is an empty, valid feed', async () => {
    await ensureCategories(tdb.db, [{ slug: 'empty-category', name: 'Empty & New' }]);
    const channel = rssOf((await get('/feeds/categories/empty-category.rss')).body).rss.channel;
    expect(channel.title).toBe('Important LLM Papers for the Week: Empty & New');
    expect(channel.item).toBeUndefined();
    const json = jsonFeedOf((await get('/feeds/categories/empty-category.json')).body);
    expect(json.items).toEqual([]);
  });

  it('an unknown category is 404 in every format; an old (merged) slug redirects', async () => {
    for (const ext of ['rss', 'atom', 'json']) {
      const { res } = await get(`/feeds/categories/no-such-category.${ext}`);
      expect(res.status).toBe(404);
    }
    const [target] = await selectRows<{ id: number }>(
      tdb.db,
      sql`SELECT id FROM categories WHERE slug = 'llm-evaluation'`,
    );
    await tdb.db.insert(categoryAliases).values({ slug: 'evaluation-old', categoryId: Number(target!.id) });
    const res = await feeds.fetch('/feeds/categories/evaluation-old.atom', { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe(`${BASE}/feeds/categories/llm-evaluation.atom`);
  });
});

describe('HTTP semantics', () => {
  const PATHS = [
    '/feeds/issues.rss',
    '/feeds/issues.atom',
    '/feeds/issues.json',
    '/feeds/categories/llm-reasoning.json',
  ];

  it('ETag is a strong hash of the body; If-None-Match gives 304', async () => {
    for (const path of PATHS) {
      const { res, body } = await get(path);
      const etag = res.headers.get('etag')!;
      expect(etag).toBe(`"${createHash('sha256').update(body).digest('base64url')}"`);
      const again = await get(path);
      expect(again.res.headers.get('etag')).toBe(etag); // deterministic body
      const cached = await get(path, { 'if-none-match': etag });
      expect(cached.res.status).toBe(304);
      expect(cached.body).toBe('');
      expect(cached.res.headers.get('etag')).toBe(etag);
      expect((await get(path, { 'if-none-match': `"other", W/${etag}` })).res.status).toBe(304);
      expect((await get(path, { 'if-none-match': '"other"' })).res.status).toBe(200);
    }
  });

  it('Last-Modified is the latest change; If-Modified-Since gives 304 (If-None-Match wins when both)', async () => {
    for (const path of PATHS) {
      const { res } = await get(path);
      const lastModified = res.headers.get('last-modified')!;
      expect(new Date(lastModified).toUTCString()).toBe(lastModified);
      expect((await get(path, { 'if-modified-since': lastModified })).res.status).toBe(304);
      const later = new Date(Date.parse(lastModified) + 60_000).toUTCString();
      expect((await get(path, { 'if-modified-since': later })).res.status).toBe(304);
      const earlier = new Date(Date.parse(lastModified) - 1000).toUTCString();
      expect((await get(path, { 'if-modified-since': earlier })).res.status).toBe(200);
      expect((await get(path, { 'if-modified-since': 'not a date' })).res.status).toBe(200);
      expect((await get(path, { 'if-modified-since': lastModified, 'if-none-match': '"other"' })).res.status).toBe(200);
    }
  });

  it('HEAD answers like GET without a body; other methods are 405', async () => {
    for (const path of PATHS) {
      const { res: getRes } = await get(path);
      const head = await feeds.fetch(path, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      expect(head.headers.get('etag')).toBe(getRes.headers.get('etag'));
      expect(head.headers.get('content-type')).toBe(getRes.headers.get('content-type'));
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const res = await feeds.fetch(path, { method, body: method === 'DELETE' ? undefined : 'x' });
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
      }
    }
  });

  it('costs a bounded number of statements, not one per item', async () => {
    tdb.resetStatements();
    await get('/feeds/issues.atom');
    expect(tdb.statements.length).toBeLessThanOrEqual(3);
    tdb.resetStatements();
    await get('/feeds/categories/llm-reasoning.atom');
    expect(tdb.statements.length).toBeLessThanOrEqual(2);
  });

  it('without a configured base URL, links use the request origin', async () => {
    const yoga = createYoga({ schema, plugins: [feedRoutes(tdb.db, {})], logging: false });
    const res = await yoga.fetch('http://feeds.test:8080/feeds/issues.json');
    const feed = jsonFeedOf(await res.text());
    expect(feed.feed_url).toBe('http://feeds.test:8080/feeds/issues.json');
    expect(feed.items[0]!.url).toBe('http://feeds.test:8080/issues/2025-05-05.md');
    expect(feed.items[0]!.id).toBe('tag:feeds.test,2025:issue/2025-05-05');
  });

  it('a base URL with a path prefix is kept; a bad one is refused at start', () => {
    expect(() => feedRoutes(tdb.db, { baseUrl: 'ftp://example.org' })).toThrow(/http or https/);
    expect(() => feedRoutes(tdb.db, { baseUrl: 'not a url' })).toThrow(/not a URL/);
    expect(() => feedRoutes(tdb.db, { baseUrl: 'https://example.org/archive/' })).not.toThrow();
  });

  it('a change to a published edition moves Last-Modified and the ETag', async () => {
    const before = await get('/feeds/issues.rss');
    await tdb.db.execute(sql`UPDATE issues SET updated_at = '2030-01-02T03:04:05.678Z' WHERE slug = '2025-05-05'`);
    for (const path of ['/feeds/issues.rss', '/feeds/categories/llm-reasoning.rss']) {
      const { res } = await get(path, { 'if-none-match': before.res.headers.get('etag')! });
      expect(res.status).toBe(200);
      expect(res.headers.get('last-modified')).toBe('Wed, 02 Jan 2030 03:04:05 GMT');
    }
    expect(
      (await get('/feeds/issues.rss', { 'if-modified-since': before.res.headers.get('last-modified')! })).res.status,
    ).toBe(200);
    // A draft's changes are nobody's business.
    const now = await get('/feeds/issues.rss');
    await tdb.db.execute(
      sql`UPDATE issues SET updated_at = '2031-01-01T00:00:00Z', title = 'Changed draft' WHERE slug = ${DRAFT_SLUG}`,
    );
    const after = await get('/feeds/issues.rss');
    expect(after.res.headers.get('etag')).toBe(now.res.headers.get('etag'));
    expect(after.res.headers.get('last-modified')).toBe(now.res.headers.get('last-modified'));
  });
});

describe('no clock, from the rows to the response', () => {
  // renderFeed is checked under two clocks below; this covers what comes before it (the queries,
  // the Markdown and HTML of the entries, buildIssuesFeed/buildCategoryFeed) and the validators.
  it('every feed and Markdown route answers the same bytes, ETag and Last-Modified under clocks years apart', async () => {
    const paths = [
      ...(['rss', 'atom', 'json'] as const).flatMap((f) => [
        `/feeds/issues.${f}`,
        `/feeds/categories/llm-reasoning.${f}`,
      ]),
      '/issues/2025-05-05.md',
      '/issues/2025-05-05/papers/2.3.md',
    ];
    const answersAt = async (iso: string) => {
      vi.useFakeTimers({ toFake: ['Date'], now: new Date(iso) });
      try {
        const answers = [];
        for (const path of paths) {
          const { res, body } = await get(path);
          answers.push({
            path,
            status: res.status,
            etag: res.headers.get('etag'),
            lastModified: res.headers.get('last-modified'),
            body,
          });
        }
        return answers;
      } finally {
        vi.useRealTimers();
      }
    };
    const early = await answersAt('2061-03-04T05:06:07Z');
    const late = await answersAt('2087-08-09T10:11:12Z');
    expect(early.map((a) => a.status)).toEqual(paths.map(() => 200));
    expect(late).toEqual(early);
    for (const answer of early) expect(JSON.stringify(answer)).not.toMatch(/2061|2087/);
  });
});

describe('GET /issues/{slug}/papers/{number}.md', () => {
  it('is one paper as Markdown: heading, edition and category, arXiv link, summary', async () => {
    const { res, body } = await get('/issues/2025-05-05/papers/2.3.md');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const lines = body.split('\n');
    expect(lines[0]).toBe('# 2.3. RM-R1: Reward Modeling as Reasoning');
    expect(body).toContain(
      `From [${SAMPLE_TITLE}](http://localhost/issues/2025-05-05.md) (2025-05-05 to 2025-05-11), section 2. LLM Reasoning.`,
    );
    expect(body).toContain('arXiv: [2505.02387](<https://arxiv.org/abs/2505.02387>)');
    expect(body).toContain('RM-R1 treats reward modeling as a reasoning problem.');
    expect(body).toContain(
      'Training has two stages:\n- Distilling high-quality reasoning traces\n- RL with verifiable rewards\n',
    );
    // And it renders as the HTML the feeds carry.
    expect(markdownToHtml(body)).toContain('<h1>2.3. RM-R1: Reward Modeling as Reasoning</h1>');
  });

  it('uses the configured base URL for its links', async () => {
    const yoga = createYoga({
      schema,
      plugins: [markdownRoutes(tdb.db, { baseUrl: `${BASE}/archive` })],
      logging: false,
    });
    const body = await (await yoga.fetch('http://localhost/issues/2025-05-05/papers/1.2.md')).text();
    expect(body).toContain(`](${BASE}/archive/issues/2025-05-05.md)`);
    expect(body.split('\n')[0]).toBe(
      '# 1.2. FormalMATH: Benchmarking Formal Mathematical Reasoning of Large Language Models',
    );
  });

  it('is 404 for a draft edition, an unknown edition or number, and a non-canonical number', async () => {
    for (const path of [
      `/issues/${DRAFT_SLUG}/papers/1.1.md`,
      '/issues/2099-01-05/papers/1.1.md',
      '/issues/2025-05-05/papers/2.9.md',
      '/issues/2025-05-05/papers/9.1.md',
    ]) {
      expect((await get(path)).res.status).toBe(404);
    }
    for (const path of [
      '/issues/2025-05-05/papers/02.3.md',
      '/issues/2025-05-05/papers/2.3',
      '/issues/2025-05-05/papers/2.md',
    ]) {
      expect((await get(path)).res.status).toBe(404);
    }
  });

  it('HEAD has no body; POST is 405; the edition route still works', async () => {
    const head = await feeds.fetch('/issues/2025-05-05/papers/2.3.md', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await feeds.fetch('/issues/2025-05-05/papers/2.3.md', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const edition = await get('/issues/2025-05-05.md');
    expect(edition.res.status).toBe(200);
    expect(edition.body.startsWith(`# ${SAMPLE_TITLE}\n`)).toBe(true);
  });
});

describe('markdownToHtml (feed content)', () => {
  it('renders GFM paragraphs and lists', () => {
    expect(markdownToHtml('One **two**.\n\nItems:\n- a\n- b')).toBe(
      '<p>One <strong>two</strong>.</p>\n<p>Items:</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n',
    );
  });

  it('shows raw HTML as text and drops script-like link targets', () => {
    const html = markdownToHtml(
      'Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) [ok](https://ok.example/) ![i](data:image/png;base64,AA)',
    );
    expect(html).not.toMatch(/<script|<img src=x|href="javascript|src="data/i);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('click');
    expect(html).toContain(`<a href="https://ok.example/" rel="${REL}">ok</a>`);
  });
});

describe('renderFeed (pure)', () => {
  const links = new SiteLinks('https://example.org/');
  const awkward = 'A <b>bold</b> & "quoted" title ]]> twice ]]> \u0001\u0008 end';
  const built: BuiltFeed = {
    meta: {
      id: links.issuesFeedId(),
      title: 'Feed & <Co>',
      description: 'About ]]> & <things>',
      home: links.home(),
      self: { rss: links.issuesFeed('rss'), atom: links.issuesFeed('atom'), json: links.issuesFeed('json') },
      updated: new Date('2025-05-12T08:00:00Z'),
    },
    entries: [
      {
        id: links.paperId('2025-05-05', '1.1'),
        title: awkward,
        link: links.paperMarkdown('2025-05-05', '1.1'),
        published: new Date('2025-05-12T08:00:00Z'),
        updated: new Date('2025-05-13T08:00:00Z'),
        summary: 'Plain & <simple>',
        contentHtml: markdownToHtml('Text with `]]>` and ]]> and <b>raw</b>'),
        categories: [{ slug: 'odd', name: 'Odd <&> "name"' }],
      },
    ],
  };

  it('writes well-formed XML whatever the text, and gives readers the text back', () => {
    const rss = rssOf(renderFeed(built, 'rss')).rss.channel;
    expect(rss.title).toBe('Feed & <Co>');
    expect(rss.description).toBe('About ]]> & <things>');
    const plain = awkward.replace(/[\u0001\u0008]/g, '');
    expect(rss.item![0]!.title).toBe(
      plain.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
    );
    expect(rss.item![0]!.description).toBe('Plain &amp; &lt;simple&gt;');
    expect(rss.item![0]!['content:encoded']).toContain('<code>]]&gt;</code>');
    const atom = atomOf(renderFeed(built, 'atom')).feed;
    expect(atom.title).toBe('Feed & <Co>');
    expect(atom.entry![0]!.title['@_type']).toBe('html');
    expect(text(atom.entry![0]!.title)).toBe(rss.item![0]!.title);
    expect(atom.entry![0]!.category[0]!['@_term']).toBe('odd');
    expect(atom.entry![0]!.updated).toBe('2025-05-13T08:00:00.000Z');
    expect(atom.entry![0]!.published).toBe('2025-05-12T08:00:00.000Z');
    const json = jsonFeedOf(renderFeed(built, 'json'));
    expect(json.items[0]!.title).toBe(awkward);
    expect(json.items[0]!.summary).toBe('Plain & <simple>');
    expect(json.items[0]!.tags).toEqual(['Odd <&> "name"']);
  });

  it('is deterministic (no clock): the same input gives the same bytes at different times', () => {
    const empty: BuiltFeed = { meta: { ...built.meta, updated: new Date(0) }, entries: [] };
    // Rendered under two clocks years apart: anything read from the clock (a default "updated",
    // "lastBuildDate" or "published") would differ between the two, and show one of these years.
    const renderAt = (iso: string) => {
      vi.useFakeTimers({ toFake: ['Date'], now: new Date(iso) });
      try {
        return (['rss', 'atom', 'json'] as const).flatMap((f) => [renderFeed(built, f), renderFeed(empty, f)]);
      } finally {
        vi.useRealTimers();
      }
    };
    const early = renderAt('2031-03-04T05:06:07Z');
    const late = renderAt('2047-08-09T10:11:12Z');
    expect(late).toEqual(early);
    for (const body of [...early, ...late]) expect(body).not.toMatch(/2031|2047/);
    expect(atomOf(early[3]!).feed.updated).toBe('1970-01-01T00:00:00.000Z');
    expect(rssOf(early[1]!).rss.channel.lastBuildDate).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });
});
