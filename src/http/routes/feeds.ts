import type { Plugin } from 'graphql-yoga';
import type { Db } from '../../db/client.js';
import {
  categoryBySlug,
  categorySlugByAlias,
  latestPublishedIssues,
  latestPublishedPapersOfCategory,
} from '../../db/queries/feeds.js';
import type { BuiltFeed } from '../../feeds/build.js';
import { httpDate, isNotModified, strongEtag } from '../../feeds/conditional.js';
import { type FeedFormat, SiteLinks } from '../../feeds/links.js';

/**
 * The feed builder (Markdown to HTML with marked and sanitize-html, RSS/Atom/JSON with feed), loaded on the first
 * feed asked for rather than at start: most processes serve none, and those libraries hold about 4 MB of the
 * server's memory (BENCHMARKS.md, start-up and memory).
 */
let feedBuilder: Promise<typeof import('../../feeds/build.js')> | undefined;
const loadFeedBuilder = () => (feedBuilder ??= import('../../feeds/build.js'));

/** Editions in /feeds/issues.*. */
export const ISSUES_FEED_SIZE = 20;
/** Papers in /feeds/categories/{slug}.*. */
export const CATEGORY_FEED_SIZE = 50;

const ISSUES_FEED = /^\/feeds\/issues\.(rss|atom|json)$/;
const CATEGORY_FEED = /^\/feeds\/categories\/([a-z0-9-]{1,100})\.(rss|atom|json)$/;

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

/** Feed readers poll; five minutes of freshness keeps that cheap. */
const CACHE_CONTROL = 'public, max-age=300';

export interface FeedRoutesOptions {
  /** Public base URL of the site (PUBLIC_URL); the request's origin when undefined. */
  baseUrl?: string | undefined;
}

type Outcome = { kind: 'feed'; built: BuiltFeed } | { kind: 'moved'; location: string } | { kind: 'missing' };

/**
 * `GET /feeds/issues.{rss,atom,json}` (the latest published editions) and
 * `GET /feeds/categories/{slug}.{rss,atom,json}` (a category's latest papers
 * from published editions), with ETag / Last-Modified and 304 answers. HEAD
 * is answered like GET without the body; other methods get 405.
 */
export function feedRoutes(db: Db, options: FeedRoutesOptions = {}): Plugin {
  // Built (and so validated) once, at start, when the base is configured.
  const configured = options.baseUrl === undefined ? null : new SiteLinks(options.baseUrl);

  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const issues = ISSUES_FEED.exec(url.pathname);
      const category = issues ? null : CATEGORY_FEED.exec(url.pathname);
      if (!issues && !category) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response('Method Not Allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const links = configured ?? new SiteLinks(url.origin);
      const format = (issues ? issues[1] : category![2]) as FeedFormat;
      const { buildIssuesFeed, renderFeed } = await loadFeedBuilder();
      const outcome: Outcome = issues
        ? { kind: 'feed', built: buildIssuesFeed(await latestPublishedIssues(db, { limit: ISSUES_FEED_SIZE }), links) }
        : await loadCategoryFeed(db, category![1]!, format, links);

      if (outcome.kind === 'missing') {
        endResponse(
          new fetchAPI.Response('Not Found\n', {
            status: 404,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          }),
        );
        return;
      }
      if (outcome.kind === 'moved') {
        endResponse(new fetchAPI.Response(null, { status: 301, headers: { location: outcome.location } }));
        return;
      }

      const body = renderFeed(outcome.built, format);
      const etag = strongEtag(body);
      const updated = outcome.built.meta.updated;
      const lastModified = updated.getTime() > 0 ? updated : null;
      const headers: Record<string, string> = { etag, 'cache-control': CACHE_CONTROL };
      if (lastModified) headers['last-modified'] = httpDate(lastModified);

      if (isNotModified(request.headers, { etag, lastModified })) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : body, {
          status: 200,
          headers: { ...headers, 'content-type': FEED_CONTENT_TYPES[format] },
        }),
      );
    },
  };
}

async function loadCategoryFeed(db: Db, slug: string, format: FeedFormat, links: SiteLinks): Promise<Outcome> {
  const category = await categoryBySlug(db, slug);
  if (!category) {
    // A merged category's old slug keeps working, permanently redirected.
    const current = await categorySlugByAlias(db, slug);
    return current ? { kind: 'moved', location: links.categoryFeed(current, format) } : { kind: 'missing' };
  }
  const rows = await latestPublishedPapersOfCategory(db, { categoryId: category.id, limit: CATEGORY_FEED_SIZE });
  const { buildCategoryFeed } = await loadFeedBuilder();
  return { kind: 'feed', built: buildCategoryFeed(category, rows, links) };
}
