/**
 * Feeds as pure functions of the rows: RSS 2.0, Atom 1.0 and JSON Feed 1.1,
 * written by the `feed` package. The output depends on nothing but the input
 * (no clock), so the same archive always gives byte-identical feeds — which
 * is what makes the ETag (a hash of the body) meaningful.
 */
import { Feed } from 'feed';
import type { IssueRows } from '../db/queries/issue-content.js';
import type { PaperEntryRow } from '../db/queries/feeds.js';
import type { CategoryRow } from '../db/schema.js';
import { documentFromRows } from '../newsletter/document.js';
import { escapeHtml, markdownToHtml } from './html.js';
import { type FeedFormat, type SiteLinks, FEED_FORMATS } from './links.js';
import { issueFeedMarkdown, paperMarkdown } from './markdown.js';

export const NEWSLETTER_NAME = 'Important LLM Papers for the Week';
export const JSON_FEED_VERSION = 'https://jsonfeed.org/version/1.1';

export interface FeedEntry {
  /** Stable id (tag: URI). */
  id: string;
  title: string;
  /** Absolute URL of the entry's own page. */
  link: string;
  published: Date;
  updated: Date;
  /** One or two plain-text sentences. */
  summary: string;
  /** HTML rendered from the entry's Markdown by `markdownToHtml` (so: sanitized to its allow-list; written to the feed as is). */
  contentHtml: string;
  categories: Array<{ slug: string; name: string }>;
}

export interface FeedMeta {
  id: string;
  title: string;
  description: string;
  /** The site's home page. */
  home: string;
  /** This feed in each format (rel="self" and alternates). */
  self: Record<FeedFormat, string>;
  /** Latest change of anything the feed shows. */
  updated: Date;
}

export interface BuiltFeed {
  meta: FeedMeta;
  entries: FeedEntry[];
}

const latest = (...dates: Array<Date | null | undefined>): Date =>
  new Date(Math.max(0, ...dates.filter((d): d is Date => d instanceof Date).map((d) => d.getTime())));

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function selfLinks(make: (format: FeedFormat) => string): Record<FeedFormat, string> {
  return Object.fromEntries(FEED_FORMATS.map((f) => [f, make(f)])) as Record<FeedFormat, string>;
}

/** The feed of the latest editions (`editions` newest first). */
export function buildIssuesFeed(editions: IssueRows[], links: SiteLinks): BuiltFeed {
  const entries = editions.map(({ issue, sections, papers }): FeedEntry => {
    const doc = documentFromRows(issue, sections, papers);
    const updated = latest(
      issue.updatedAt,
      issue.publishedAt,
      ...papers.map((p) => p.updatedAt),
      ...sections.map((s) => s.category.updatedAt),
    );
    const summary = [
      issue.subtitle,
      `${count(papers.length, 'paper', 'papers')} in ${count(sections.length, 'category', 'categories')}, week of ${issue.weekStart} to ${issue.weekEnd}.`,
    ]
      .filter((s) => s !== '')
      .join(' — ');
    return {
      id: links.issueId(issue.slug),
      title: issue.title,
      link: links.issueMarkdown(issue.slug),
      published: issue.publishedAt ?? issue.createdAt,
      updated,
      summary,
      contentHtml: markdownToHtml(issueFeedMarkdown(doc, issue.slug, links)),
      categories: sections.map((s) => ({ slug: s.category.slug, name: s.category.name })),
    };
  });
  return {
    meta: {
      id: links.issuesFeedId(),
      title: NEWSLETTER_NAME,
      description: `Every edition of the weekly newsletter "${NEWSLETTER_NAME}", newest first.`,
      home: links.home(),
      self: selfLinks((f) => links.issuesFeed(f)),
      updated: latest(...entries.map((e) => e.updated)),
    },
    entries,
  };
}

/** The feed of a category's latest papers (`rows` newest first). */
export function buildCategoryFeed(category: CategoryRow, rows: PaperEntryRow[], links: SiteLinks): BuiltFeed {
  const entries = rows.map(({ paper, issue, category: cat }): FeedEntry => {
    const number = `${paper.sectionNumber}.${paper.position}`;
    const markdown = paperMarkdown(
      {
        paper: { number, title: paper.title, summary: paper.summary, url: paper.url, arxivId: paper.arxivId },
        issue,
        section: { number: paper.sectionNumber, categoryName: cat.name },
      },
      links,
      { heading: false },
    );
    return {
      id: links.paperId(issue.slug, number),
      title: paper.title,
      link: links.paperMarkdown(issue.slug, number),
      published: issue.publishedAt ?? issue.updatedAt,
      updated: latest(paper.updatedAt, issue.updatedAt, issue.publishedAt, cat.updatedAt),
      summary: `Paper ${number} of "${issue.title}" (${cat.name}).`,
      contentHtml: markdownToHtml(markdown),
      categories: [{ slug: cat.slug, name: cat.name }],
    };
  });
  return {
    meta: {
      id: links.categoryFeedId(category.slug),
      title: `${NEWSLETTER_NAME}: ${category.name}`,
      description: category.description || `The latest papers in "${category.name}", newest first.`,
      home: links.home(),
      self: selfLinks((f) => links.categoryFeed(category.slug, f)),
      updated: latest(category.updatedAt, ...entries.map((e) => e.updated)),
    },
    entries,
  };
}

/** Characters that XML 1.0 does not allow anywhere (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F). */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Serialises a built feed in one format.
 *
 * Text goes into the XML formats HTML-escaped: Atom's titles and summaries
 * are type="html", RSS's are read as HTML by most readers, and escaping also
 * keeps "]]>" out of the CDATA sections the `feed` package writes. JSON Feed
 * gets the plain text.
 */
export function renderFeed(built: BuiltFeed, format: FeedFormat): string {
  const { meta, entries } = built;
  const asHtml = format === 'json' ? (t: string) => t : escapeHtml;
  const feed = new Feed({
    id: meta.id,
    title: meta.title,
    description: meta.description,
    link: meta.home,
    language: 'en',
    updated: meta.updated,
    generator: false,
    feedLinks: { [format]: meta.self[format] },
    // Atom requires an author on the feed when entries have none.
    author: { name: NEWSLETTER_NAME, link: meta.home },
  });
  for (const e of entries) {
    feed.addItem({
      id: e.id,
      title: asHtml(e.title),
      link: e.link,
      date: e.updated,
      published: e.published,
      description: escapeHtml(e.summary),
      content: e.contentHtml,
      // The `feed` package writes Atom's category label as an attribute without escaping "<".
      category: e.categories.map((c) => ({
        name: format === 'atom' ? c.name.replace(/</g, '') : c.name,
        term: c.slug,
      })),
    });
  }
  if (format === 'rss') return feed.rss2().replace(NOT_XML_CHAR, '');
  if (format === 'atom') return feed.atom1().replace(NOT_XML_CHAR, '');
  return toJsonFeed11(feed.json1(), entries);
}

interface JsonFeedAuthor {
  name?: string;
  url?: string;
  avatar?: string;
}

/**
 * The `feed` package writes JSON Feed 1.0. Version 1.1 differs in what we
 * use by: the version URL, `authors` (an array) instead of `author`, and
 * `language`. `summary` is plain text in JSON Feed, so it is set from the
 * entries rather than from the HTML-escaped RSS/Atom description.
 */
function toJsonFeed11(json1: string, entries: FeedEntry[]): string {
  const doc = JSON.parse(json1) as Record<string, unknown> & {
    author?: JsonFeedAuthor;
    items: Array<Record<string, unknown> & { author?: JsonFeedAuthor }>;
  };
  const { author, items, ...rest } = doc;
  const out: Record<string, unknown> = {
    ...rest,
    version: JSON_FEED_VERSION,
    language: 'en',
    ...(author ? { authors: [author] } : {}),
    items: items.map(({ author: itemAuthor, ...item }, i) => ({
      ...item,
      summary: entries[i]!.summary,
      ...(itemAuthor ? { authors: [itemAuthor] } : {}),
    })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}
