/**
 * Citations of a paper (text in, text out): BibTeX, and formatted references
 * in APA, IEEE and Chicago through citation-js (citeproc-js underneath).
 *
 * The newsletter knows a paper's title, its arXiv id or link and the week it
 * was summarised in — not its authors. No style used here needs an author: CSL
 * puts the title in the author's place, and a BibTeX @misc entry has no
 * required author. So no entry invents one ("and others" would be a guess).
 *
 * BibTeX is written here rather than by citation-js: its BibTeX output has no
 * `eprint`/`archivePrefix` fields, which arXiv's own export and natbib/biblatex
 * users expect. The escaping below is checked by parsing the output back
 * (tests/citations.test.ts, @retorquere/bibtex-parser).
 */
import { arxivAbsUrl } from './links.js';

/** What a citation is made of. */
export interface CitablePaper {
  title: string;
  /** arXiv id without version ("2505.02387", "hep-th/9901001"), when known. */
  arxivId: string | null;
  url: string | null;
  /** The edition's slug and week (the date when there is no arXiv id), and the paper's number in it ("2.3"). */
  issueSlug: string;
  weekStart: string;
  number: string;
}

export type CitationStyle = 'APA' | 'IEEE' | 'CHICAGO';

/** Year and month: from a new-style arXiv id (YYMM.NNNNN), an old one (archive/YYMMNNN), else the edition's week. */
function issued(paper: CitablePaper): [number, number] {
  const m = paper.arxivId ? /(?:^|\/)(\d{2})(\d{2})(?:\.|\d{3}$)/.exec(paper.arxivId) : null;
  if (m) {
    const yy = Number(m[1]);
    return [yy >= 91 ? 1900 + yy : 2000 + yy, Number(m[2])];
  }
  const [y, mo] = paper.weekStart.split('-').map(Number);
  return [y!, mo!];
}

/** An http(s) URL, normalised (percent-encoded), or null. */
function httpUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

const paperUrl = (paper: CitablePaper): string | null =>
  paper.arxivId ? arxivAbsUrl(paper.arxivId) : httpUrl(paper.url);

/** The citation key: `arxiv:ID` (slashes of old ids as hyphens), else `llmpapers:SLUG:N`. */
export function citationKey(paper: CitablePaper): string {
  return paper.arxivId ? `arxiv:${paper.arxivId.replaceAll('/', '-')}` : `llmpapers:${paper.issueSlug}:${paper.number}`;
}

// BibTeX: characters special to (La)TeX inside a braced field value, as commands.
const TEX_ESCAPES: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  '%': '\\%',
  '&': '\\&',
  $: '\\$',
  _: '\\_',
  '#': '\\#',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
};

/** Text as the value of a braced BibTeX field (Unicode kept: biber and BibTeX with UTF-8 input read it). */
export function bibtexText(text: string): string {
  return text.replace(/[\\{}%&$_#^~]/g, (c) => TEX_ESCAPES[c]!).replace(/\s+/g, ' ');
}

/**
 * One BibTeX entry: `@misc` with the title (in double braces, so that styles
 * keep its capitals), year and month, and for an arXiv paper `eprint`,
 * `archivePrefix = {arXiv}` and its DOI (10.48550/arXiv.ID); `url` always
 * when there is one. `primaryClass` is left out: the newsletter does not say.
 */
export function bibtexEntry(paper: CitablePaper): string {
  const [year, month] = issued(paper);
  const fields: Array<[string, string]> = [
    ['title', `{${bibtexText(paper.title.trim())}}`],
    ['year', String(year)],
    ['month', String(month)],
  ];
  if (paper.arxivId) {
    fields.push(['eprint', paper.arxivId], ['archivePrefix', 'arXiv'], ['doi', `10.48550/arXiv.${paper.arxivId}`]);
  }
  const url = paperUrl(paper);
  // A URL has no braces or spaces once normalised; its % and # stay as written for \url.
  if (url) fields.push(['url', url]);
  const body = fields.map(([k, v]) => `  ${k} = {${v}}`).join(',\n');
  return `@misc{${citationKey(paper)},\n${body}\n}\n`;
}

/** The entries of several papers, one blank line apart. */
export function bibtexFile(papers: CitablePaper[]): string {
  return papers.map(bibtexEntry).join('\n');
}

/** The paper as CSL-JSON, the input of the citation styles. */
function cslItem(paper: CitablePaper): Record<string, unknown> {
  const [year, month] = issued(paper);
  const item: Record<string, unknown> = {
    id: citationKey(paper),
    type: 'article',
    title: paper.title.trim(),
    issued: { 'date-parts': [[year, month]] },
  };
  const url = paperUrl(paper);
  if (url) item.URL = url;
  if (paper.arxivId) {
    item.publisher = 'arXiv';
    item.number = `arXiv:${paper.arxivId}`;
    item.DOI = `10.48550/arXiv.${paper.arxivId}`;
  }
  return item;
}

/*
 * IEEE and Chicago (author-date) references of a preprint, as CSL styles of
 * our own: citation-js ships APA only, and no maintained package of the CSL
 * project's styles is on the registry. They follow the IEEE Reference Guide
 * ("Title," arXiv preprint arXiv:ID, year. [Online]. Available: URL) and the
 * Chicago Manual of Style's author-date form without an author ("Title."
 * year. Preprint, arXiv:ID. URL.).
 */
const CSL_HEAD = (id: string, title: string) => `<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0" default-locale="en-US">
  <info><title>${title}</title><id>${id}</id><updated>2026-12-05T00:00:00+00:00</updated></info>
  <citation><layout><text variable="title"/></layout></citation>`;

const IEEE_CSL = `${CSL_HEAD('llm-papers-ieee', 'IEEE (preprints)')}
  <bibliography>
    <layout>
      <group delimiter=", " suffix=".">
        <text variable="title" quotes="true"/>
        <choose><if variable="number"><group delimiter=" "><text value="arXiv preprint"/><text variable="number"/></group></if></choose>
        <date variable="issued"><date-part name="year"/></date>
      </group>
      <group prefix=" " delimiter=" "><text value="[Online]. Available:"/><text variable="URL"/></group>
    </layout>
  </bibliography>
</style>`;

const CHICAGO_CSL = `${CSL_HEAD('llm-papers-chicago', 'Chicago author-date (preprints)')}
  <bibliography>
    <layout suffix=".">
      <group delimiter=". ">
        <text variable="title" quotes="true" strip-periods="false"/>
        <date variable="issued"><date-part name="year"/></date>
        <choose><if variable="number"><group delimiter=", "><text value="Preprint"/><text variable="number"/></group></if></choose>
        <choose>
          <if variable="DOI"><text variable="DOI" prefix="https://doi.org/"/></if>
          <else><text variable="URL"/></else>
        </choose>
      </group>
    </layout>
  </bibliography>
</style>`;

const TEMPLATES: Record<CitationStyle, string> = { APA: 'apa', IEEE: 'llm-papers-ieee', CHICAGO: 'llm-papers-chicago' };

let engine: Promise<typeof import('@citation-js/core')['Cite']> | undefined;

/**
 * citation-js with its CSL plugin and our templates, loaded on the first formatted reference rather than at start:
 * most processes never format one, and citeproc-js alone is 2 MB of source (BENCHMARKS.md, start-up and memory).
 */
function loadEngine() {
  engine ??= (async () => {
    const { Cite, plugins } = await import('@citation-js/core');
    await import('@citation-js/plugin-csl');
    const config = plugins.config.get('@csl') as { styles: { add(name: string, xml: string): void } };
    config.styles.add(TEMPLATES.IEEE, IEEE_CSL);
    config.styles.add(TEMPLATES.CHICAGO, CHICAGO_CSL);
    return Cite;
  })();
  return engine;
}

/** The paper as one formatted reference (plain text) in `style`. */
export async function citation(paper: CitablePaper, style: CitationStyle): Promise<string> {
  const Cite = await loadEngine();
  const cite = new Cite([cslItem(paper)]);
  const text = cite.format('bibliography', { format: 'text', style: TEMPLATES[style], lang: 'en-US' }) as string;
  return text.trim();
}
