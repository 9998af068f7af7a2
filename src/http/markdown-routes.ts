import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db/client.js';
import { editionRows } from '../db/queries/editions.js';
import { publishedPaperByNumber } from '../db/queries/feeds.js';
import { SiteLinks } from '../feeds/links.js';
import { paperMarkdown } from '../feeds/markdown.js';
import { documentFromRows } from '../newsletter/document.js';
import { renderMarkdown } from '../newsletter/markdown.js';

const ISSUE_MD = /^\/issues\/([a-z0-9-]{1,100})\.md$/;
/** Canonical paper numbers only: "2.3", not "02.3" (section and position are 1–999). */
const PAPER_MD = /^\/issues\/([a-z0-9-]{1,100})\/papers\/([1-9][0-9]{0,2})\.([1-9][0-9]{0,2})\.md$/;

/** Renders a published edition as Markdown, or null when there is none. */
export async function editionMarkdown(db: Db, slug: string): Promise<string | null> {
  const rows = await editionRows(db, slug, false);
  return rows ? renderMarkdown(documentFromRows(rows.issue, rows.sections, rows.papers)) : null;
}

/** Renders one paper of a published edition as Markdown (links absolute, from `links`), or null. */
export async function paperMarkdownPage(
  db: Db,
  issueSlug: string,
  sectionNumber: number,
  position: number,
  links: SiteLinks,
): Promise<string | null> {
  const row = await publishedPaperByNumber(db, { issueSlug, sectionNumber, position });
  if (!row) return null;
  const { paper, issue, category } = row;
  return paperMarkdown(
    {
      paper: {
        number: `${paper.sectionNumber}.${paper.position}`,
        title: paper.title,
        summary: paper.summary,
        url: paper.url,
        arxivId: paper.arxivId,
      },
      issue,
      section: { number: paper.sectionNumber, categoryName: category.name },
    },
    links,
  );
}

export interface MarkdownRoutesOptions {
  /** Public base URL for the links inside the Markdown (PUBLIC_URL); the request's origin when undefined. */
  baseUrl?: string | undefined;
}

/**
 * `GET /issues/{slug}.md`: the edition in the Markdown export format, and
 * `GET /issues/{slug}/papers/{n}.md`: one paper (published editions only).
 */
export function markdownRoutes(db: Db, options: MarkdownRoutesOptions = {}): Plugin {
  const configured = options.baseUrl === undefined ? null : new SiteLinks(options.baseUrl);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const issueMatch = ISSUE_MD.exec(url.pathname);
      const paperMatch = issueMatch ? null : PAPER_MD.exec(url.pathname);
      if (!issueMatch && !paperMatch) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response('Method Not Allowed', { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const markdown = issueMatch
        ? await editionMarkdown(db, issueMatch[1]!)
        : await paperMarkdownPage(
            db,
            paperMatch![1]!,
            Number(paperMatch![2]),
            Number(paperMatch![3]),
            configured ?? new SiteLinks(url.origin),
          );
      endResponse(
        markdown === null
          ? new fetchAPI.Response('Not Found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } })
          : new fetchAPI.Response(request.method === 'HEAD' ? null : markdown, {
              status: 200,
              headers: { 'content-type': 'text/markdown; charset=utf-8' },
            }),
      );
    },
  };
}
