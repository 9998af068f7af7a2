import type { CategoryRow, IssueRow, PaperWithSummary, SectionRow } from '../db/schema.js';
import type { EditionDocument } from './types.js';

/** The stored edition as the document the exporter renders. */
export function documentFromRows(
  issue: IssueRow,
  sections: Array<SectionRow & { category: CategoryRow }>,
  papers: PaperWithSummary[],
): EditionDocument {
  return {
    title: issue.title,
    subtitle: issue.subtitle,
    intro: issue.intro,
    tableOfContents: [...sections.map((s) => s.category.name), ...issue.asides.map((a) => a.title)],
    asides: issue.asides.map((a) => ({ title: a.title, body: a.body })),
    weekStart: issue.weekStart,
    weekEnd: issue.weekEnd,
    sections: sections.map((s) => ({
      number: s.number,
      categoryName: s.category.name,
      papers: papers
        .filter((p) => p.sectionId === s.id)
        .sort((a, b) => a.position - b.position)
        .map((p) => ({
          number: `${s.number}.${p.position}`,
          title: p.title,
          summary: p.summary,
          url: p.url,
          arxivId: p.arxivId,
        })),
    })),
    outro: issue.outro,
  };
}
