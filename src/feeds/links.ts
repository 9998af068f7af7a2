/**
 * Absolute links and stable ids of the public resources (feeds, Markdown
 * pages). Every URL is built from one base: the configured public URL
 * (PUBLIC_URL, e.g. "https://papers.example.org" or ".../archive"), or the
 * request's origin when none is configured.
 */

export type FeedFormat = 'rss' | 'atom' | 'json';

export const FEED_FORMATS: readonly FeedFormat[] = ['rss', 'atom', 'json'];

/** Year in tag: URIs ("tag:host,2025:…"): fixed forever, so that ids never change. */
const TAG_YEAR = 2025;

/**
 * Checks and normalises a configured public base URL: http(s), no query or
 * fragment, no trailing slash. Throws on anything else.
 */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`public base URL is not a URL: ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`public base URL must be http or https: ${JSON.stringify(baseUrl)}`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error(`public base URL must not have a query or a fragment: ${JSON.stringify(baseUrl)}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export class SiteLinks {
  /** Normalised base, without trailing slash. */
  readonly base: string;
  private readonly tagAuthority: string;

  constructor(base: string) {
    this.base = normalizeBaseUrl(base);
    this.tagAuthority = `${new URL(this.base).hostname},${TAG_YEAR}`;
  }

  /** Home page of the site: the public base itself. */
  home(): string {
    return `${this.base}/`;
  }

  issueMarkdown(issueSlug: string): string {
    return `${this.base}/issues/${encodeURIComponent(issueSlug)}.md`;
  }

  /** `number` is "2.3". */
  paperMarkdown(issueSlug: string, number: string): string {
    return `${this.base}/issues/${encodeURIComponent(issueSlug)}/papers/${encodeURIComponent(number)}.md`;
  }

  issuesFeed(format: FeedFormat): string {
    return `${this.base}/feeds/issues.${format}`;
  }

  categoryFeed(categorySlug: string, format: FeedFormat): string {
    return `${this.base}/feeds/categories/${encodeURIComponent(categorySlug)}.${format}`;
  }

  /**
   * A stable id (RFC 4151 tag URI): it names the thing, not where it is
   * served, so it survives changes of paths and of the URL scheme.
   */
  tag(specific: string): string {
    return `tag:${this.tagAuthority}:${specific}`;
  }

  issueId(issueSlug: string): string {
    return this.tag(`issue/${issueSlug}`);
  }

  paperId(issueSlug: string, number: string): string {
    return this.tag(`issue/${issueSlug}/paper/${number}`);
  }

  issuesFeedId(): string {
    return this.tag('feed/issues');
  }

  categoryFeedId(categorySlug: string): string {
    return this.tag(`feed/category/${categorySlug}`);
  }
}

/** arXiv abstract page of an id such as "2505.02387" or "cs/0112017". */
export function arxivAbsUrl(arxivId: string): string {
  return `https://arxiv.org/abs/${encodeURI(arxivId)}`;
}
