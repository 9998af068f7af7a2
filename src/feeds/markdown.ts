/**
 * Markdown for readers (feeds and GET /issues/{slug}/papers/{n}.md): plain
 * CommonMark with absolute links, unlike the export format (which carries
 * metadata comments for the importer). Plain-text fields are escaped with the
 * exporter's rules; Markdown bodies (intro, summaries, …) are used as written.
 */
import { escapeInline } from '../newsletter/markdown.js';
import type { IssueDocument, IssuePaper } from '../newsletter/types.js';
import { type SiteLinks, arxivAbsUrl } from './links.js';

/** An http(s) URL as a CommonMark autolink, or null when it cannot be one. */
function autolink(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  // URL serialisation percent-encodes spaces, "<", ">" and control characters.
  return `<${parsed.href}>`;
}

/**
 * The paper's sources on one line: "arXiv: [2505.02387](…)" and/or
 * "Link: <…>" (the link is left out when it is the arXiv page itself).
 */
function paperSourceLines(paper: { url?: string | null; arxivId?: string | null }): string[] {
  const parts: string[] = [];
  const arxivUrl = paper.arxivId ? arxivAbsUrl(paper.arxivId) : null;
  if (paper.arxivId && arxivUrl) {
    parts.push(`arXiv: [${escapeInline(paper.arxivId, false)}](${autolink(arxivUrl) ?? ''})`);
  }
  if (paper.url && paper.url !== arxivUrl) {
    parts.push(`Link: ${autolink(paper.url) ?? escapeInline(paper.url, false)}`);
  }
  return parts.length > 0 ? [parts.join(' · ')] : [];
}

function joinBlocks(blocks: string[][]): string {
  return `${blocks
    .filter((b) => b.length > 0)
    .map((b) => b.join('\n'))
    .join('\n\n')}\n`;
}

function body(text: string): string[] {
  return text.trim() === '' ? [] : [text.trim()];
}

export interface PaperMarkdownInput {
  paper: IssuePaper;
  issue: { slug: string; title: string; weekStart: string; weekEnd: string };
  section: { number: number; categoryName: string };
}

/**
 * One paper as a small Markdown document: the title heading (omitted with
 * `heading: false`, for feed entries whose title says it already), the
 * edition and category line, its links and its summary.
 */
export function paperMarkdown(
  input: PaperMarkdownInput,
  links: SiteLinks,
  options: { heading?: boolean } = {},
): string {
  const { paper, issue, section } = input;
  const blocks: string[][] = [];
  if (options.heading !== false) blocks.push([`# ${paper.number}. ${escapeInline(paper.title, false)}`]);
  blocks.push([
    `From [${escapeInline(issue.title, false)}](${links.issueMarkdown(issue.slug)}) ` +
      `(${issue.weekStart} to ${issue.weekEnd}), section ${section.number}. ${escapeInline(section.categoryName, false)}.`,
  ]);
  blocks.push(paperSourceLines(paper));
  blocks.push(body(paper.summary));
  return joinBlocks(blocks);
}

/**
 * A whole edition as the body of a feed entry (the title is the entry's own):
 * subtitle, intro, asides, then each numbered section with its papers, linked
 * to their own pages, and the outro.
 */
export function issueFeedMarkdown(doc: IssueDocument, issueSlug: string, links: SiteLinks): string {
  const blocks: string[][] = [];
  if (doc.subtitle !== '') blocks.push([`*${escapeInline(doc.subtitle, false)}*`]);
  blocks.push(body(doc.intro));
  for (const aside of doc.asides) {
    blocks.push([`## ${escapeInline(aside.title, true)}`], body(aside.body));
  }
  for (const section of doc.sections) {
    blocks.push([`## ${section.number}. ${escapeInline(section.categoryName, false)}`]);
    for (const paper of section.papers) {
      blocks.push([
        `### [${paper.number}. ${escapeInline(paper.title, false)}](${links.paperMarkdown(issueSlug, paper.number)})`,
      ]);
      blocks.push(paperSourceLines(paper), body(paper.summary));
    }
  }
  if (doc.outro.trim() !== '') blocks.push(['---'], body(doc.outro));
  return joinBlocks(blocks);
}
