import type { Plugin } from 'graphql-yoga';
import type { Db } from '../../db/client.js';
import { PUBLISHED_ONLY } from '../../db/queries/fragments.js';
import { issueRows } from '../../db/queries/issue-content.js';
import { publishedPaperByNumber, publishedPaperNumberAsWritten } from '../../db/queries/feeds.js';
import { type CitablePaper, bibtexEntry, bibtexFile } from '../../feeds/citations.js';
import { isNotModified, strongEtag } from '../../feeds/conditional.js';
import { SiteLinks } from '../../feeds/links.js';
import { paperMarkdown } from '../../feeds/markdown.js';
import { documentFromRows } from '../../newsletter/document.js';
import { renderMarkdown } from '../../newsletter/markdown.js';

const ISSUE_MD = /^\/issues\/([a-z0-9-]{1,100})\.md$/;
/** Canonical paper numbers only: "2.3", not "02.3" (section and position are 1–999). */
const PAPER_MD = /^\/issues\/([a-z0-9-]{1,100})\/papers\/([1-9][0-9]{0,2})\.([1-9][0-9]{0,2})\.md$/;
const ISSUE_BIB = /^\/issues\/([a-z0-9-]{1,100})\.bib$/;
const PAPER_BIB = /^\/issues\/([a-z0-9-]{1,100})\/papers\/([1-9][0-9]{0,2})\.([1-9][0-9]{0,2})\.bib$/;

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

/** Every paper of a published edition as BibTeX entries, or null when there is none. */
export async function issueBibtex(db: Db, slug: string): Promise<string | null> {
  const rows = await issueRows(db, slug, PUBLISHED_ONLY);
  if (!rows) return null;
  const papers: CitablePaper[] = rows.papers.map((p) => ({
    title: p.title,
    arxivId: p.arxivId,
    url: p.url,
    issueSlug: slug,
    weekStart: rows.issue.weekStart,
    number: `${p.sectionNumber}.${p.position}`,
  }));
  return bibtexFile(papers);
}

/** One paper of a published edition as a BibTeX entry, or null. */
export async function paperBibtex(db: Db, issueSlug: string, sectionNumber: number, position: number) {
  const row = await publishedPaperByNumber(db, { issueSlug, sectionNumber, position });
  if (!row) return null;
  const { paper, issue } = row;
  return bibtexEntry({
    title: paper.title,
    arxivId: paper.arxivId,
    url: paper.url,
    issueSlug,
    weekStart: issue.weekStart,
    number: `${paper.sectionNumber}.${paper.position}`,
  });
}

type Page =
  | { kind: 'markdown'; markdown: string }
  | { kind: 'bibtex'; bibtex: string }
  | { kind: 'moved'; location: string }
  | { kind: 'missing' };

async function paperPage(db: Db, match: RegExpExecArray, links: SiteLinks): Promise<Page> {
  const [slug, section, position] = [match[1]!, Number(match[2]), Number(match[3])];
  const markdown = await paperMarkdownPage(db, slug, section, position, links);
  if (markdown !== null) return { kind: 'markdown', markdown };
  const location = await paperMovedTo(db, slug, section, position, links);
  return location === null ? { kind: 'missing' } : { kind: 'moved', location };
}

async function bibPage(db: Db, match: RegExpExecArray, links: SiteLinks, paper: boolean): Promise<Page> {
  const slug = match[1]!;
  if (!paper) {
    const bibtex = await issueBibtex(db, slug);
    return bibtex === null ? { kind: 'missing' } : { kind: 'bibtex', bibtex };
  }
  const [section, position] = [Number(match[2]), Number(match[3])];
  const bibtex = await paperBibtex(db, slug, section, position);
  if (bibtex !== null) return { kind: 'bibtex', bibtex };
  const moved = await paperMovedTo(db, slug, section, position, links);
  return moved === null ? { kind: 'missing' } : { kind: 'moved', location: moved.replace(/\.md$/, '.bib') };
}

async function issuePage(db: Db, match: RegExpExecArray): Promise<Page> {
  const markdown = await issueMarkdown(db, match[1]!);
  return markdown === null ? { kind: 'missing' } : { kind: 'markdown', markdown };
}

/** 200 with a strong ETag, or 304 when the request's validators match it (If-None-Match). */
function bodyResponse(
  body: string,
  contentType: string,
  request: Request,
  fetchAPI: { Response: typeof Response },
): Response {
  const etag = strongEtag(body);
  if (isNotModified(request.headers, { etag, lastModified: null }))
    return new fetchAPI.Response(null, { status: 304, headers: { etag } });
  return new fetchAPI.Response(request.method === 'HEAD' ? null : body, {
    status: 200,
    headers: { etag, 'content-type': contentType },
  });
}

function pageResponse(page: Page, request: Request, fetchAPI: { Response: typeof Response }): Response {
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
      return bodyResponse(page.markdown, 'text/markdown; charset=utf-8', request, fetchAPI);
    case 'bibtex':
      return bodyResponse(page.bibtex, 'text/x-bibtex; charset=utf-8', request, fetchAPI);
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
 * `GET /issues/{slug}.bib` and `/issues/{slug}/papers/{n}.bib`: the same as
 * BibTeX (`text/x-bibtex`). Each with a strong ETag (conditional GET: 304).
 */
export function markdownRoutes(db: Db, options: MarkdownRoutesOptions = {}): Plugin {
  const configured = options.baseUrl === undefined ? null : new SiteLinks(options.baseUrl);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const issueMatch = ISSUE_MD.exec(url.pathname);
      const paperMatch = issueMatch ? null : PAPER_MD.exec(url.pathname);
      const issueBib = issueMatch || paperMatch ? null : ISSUE_BIB.exec(url.pathname);
      const paperBib = issueMatch || paperMatch || issueBib ? null : PAPER_BIB.exec(url.pathname);
      if (!issueMatch && !paperMatch && !issueBib && !paperBib) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response('Method Not Allowed', { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const links = configured ?? new SiteLinks(url.origin);
      const page = issueMatch
        ? await issuePage(db, issueMatch)
        : paperMatch
          ? await paperPage(db, paperMatch, links)
          : await bibPage(db, (issueBib ?? paperBib)!, links, paperBib !== null);
      endResponse(pageResponse(page, request, fetchAPI));
    },
  };
}
