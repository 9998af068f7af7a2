import type { IssueDocument, IssuePaper, StoredIssue, StoredPaper, StoredSection } from './types.js';

/**
 * The stored edition as the document the exporter renders. The table of
 * contents is the one the editor wrote when the edition was imported (null:
 * an edition made through the API, whose TOC is derived from its sections
 * and asides). A paper's numberAsWritten is exported when the row carries it.
 */
export function documentFromRows(
  issue: StoredIssue,
  sections: readonly StoredSection[],
  papers: readonly StoredPaper[],
): IssueDocument {
  return {
    title: issue.title,
    subtitle: issue.subtitle,
    intro: issue.intro,
    tableOfContents: issue.tableOfContents ?? [
      ...sections.map((s) => s.category.name),
      ...issue.asides.map((a) => a.title),
    ],
    asides: issue.asides.map((a) => ({ title: a.title, body: a.body })),
    weekStart: issue.weekStart,
    weekEnd: issue.weekEnd,
    sections: sections.map((s) => ({
      number: s.number,
      categoryName: s.category.name,
      papers: papers
        .filter((p) => p.sectionId === s.id)
        .sort((a, b) => a.position - b.position)
        .map((p) => documentPaper(`${s.number}.${p.position}`, p)),
    })),
    outro: issue.outro,
  };
}

function documentPaper(number: string, p: StoredPaper): IssuePaper {
  return {
    number,
    ...(p.numberAsWritten ? { numberAsWritten: p.numberAsWritten } : {}),
    title: p.title,
    summary: p.summary,
    url: p.url,
    arxivId: p.arxivId,
  };
}
