import type { Plugin } from 'graphql-yoga';
import type { Db } from '../../db/client.js';
import { PUBLISHED_ONLY } from '../../db/queries/fragments.js';
import { issueRows } from '../../db/queries/issue-content.js';
import { publishedPaperByNumber, publishedPaperNumberAsWritten } from '../../db/queries/feeds.js';
import { SiteLinks } from '../../feeds/links.js';
import { paperMarkdown } from '../../feeds/markdown.js';
import { documentFromRows } from '../../newsletter/document.js';
import { renderMarkdown } from '../../newsletter/markdown.js';

const ISSUE_MD = /^\/issues\/([a-z0-9-]{1,100})\.md$/;
/** Canonical paper numbers only: "2.3", not "02.3" (section and position are 1–999). */
const PAPER_MD = /^\/issues\/([a-z0-9-]{1,100})\/papers\/([1-9][0-9]{0,2})\.([1-9][0-9]{0,2})\.md$/;

/** Renders a published edition as Markdown, or null when there is none. */
export async function issueMarkdown(db: Db, slug: string): Promise<string | null> {
  const rows = await issueRows(db, slug, PUBLISHED_ONLY);
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

/**
 * Where a paper numbered `section.position` by its imported text now lives,
 * when no paper has that number but one was written so (a numbering gap:
 * "2.3" stored as 2.2): its page's URL, or null.
 */
export async function paperMovedTo(
  db: Db,
  issueSlug: string,
  sectionNumber: number,
  position: number,
  links: SiteLinks,
): Promise<string | null> {
  const stored = await publishedPaperNumberAsWritten(db, {
    issueSlug,
    numberAsWritten: `${sectionNumber}.${position}`,
  });
  return stored ? links.paperMarkdown(issueSlug, `${stored.sectionNumber}.${stored.position}`) : null;
}

type Page = { kind: 'markdown'; markdown: string } | { kind: 'moved'; location: string } | { kind: 'missing' };

async function paperPage(db: Db, match: RegExpExecArray, links: SiteLinks): Promise<Page> {
  const [slug, section, position] = [match[1]!, Number(match[2]), Number(match[3])];
  const markdown = await paperMarkdownPage(db, slug, section, position, links);
  if (markdown !== null) return { kind: 'markdown', markdown };
  const location = await paperMovedTo(db, slug, section, position, links);
  return location === null ? { kind: 'missing' } : { kind: 'moved', location };
}

async function issuePage(db: Db, match: RegExpExecArray): Promise<Page> {
  const markdown = await issueMarkdown(db, match[1]!);
  return markdown === null ? { kind: 'missing' } : { kind: 'markdown', markdown };
}

function pageResponse(page: Page, method: string, fetchAPI: { Response: typeof Response }): Response {
  switch (page.kind) {
    case 'missing':
      return new fetchAPI.Response('Not Found\n', {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    case 'moved':
      // The number as the imported text wrote it, redirected to the stored number. Temporary (307): an
      // editor's renumbering or a new paper taking that number changes where it leads.
      return new fetchAPI.Response(null, { status: 307, headers: { location: page.location } });
    case 'markdown':
      return new fetchAPI.Response(method === 'HEAD' ? null : page.markdown, {
        status: 200,
        headers: { 'content-type': 'text/markdown; charset=utf-8' },
      });
  }
}

export interface MarkdownRoutesOptions {
  /** Public base URL for the links inside the Markdown (PUBLIC_URL); the request's origin when undefined. */
  baseUrl?: string | undefined;
}

/**
 * `GET /issues/{slug}.md`: the edition in the Markdown export format, and
 * `GET /issues/{slug}/papers/{n}.md`: one paper (published editions only);
 * a number only the imported text used ("2.3" stored as 2.2) redirects.
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
      const page = issueMatch
        ? await issuePage(db, issueMatch)
        : await paperPage(db, paperMatch!, configured ?? new SiteLinks(url.origin));
      endResponse(pageResponse(page, request.method, fetchAPI));
    },
  };
}
