/**
 * The structure of one edition as it is written by editors (plain text or
 * Markdown) and as it is exported. Pure data: no database ids.
 */
export interface IssuePaper {
  /** "2.3": section number, a dot, position inside the section (1-based). Always contiguous: what is stored. */
  number: string;
  /**
   * The number the text wrote when it differs from `number` (a numbering gap:
   * "2.1", "2.3" is stored as 2.1, 2.2 with "2.3" here). Absent otherwise.
   */
  numberAsWritten?: string;
  title: string;
  /** Markdown: paragraphs separated by one blank line, bullet items as "- ". */
  summary: string;
  url?: string | null;
  arxivId?: string | null;
}

export interface IssueSection {
  /** 1-based section number: the n-th section is n (the number printed may differ; see numberAsWritten). */
  number: number;
  /** The category name as printed ("LLM Training & Fine-Tuning"). */
  categoryName: string;
  papers: IssuePaper[];
}

/** A block listed in the table of contents that is not a numbered section (e.g. an e-book promo). */
export interface IssueAside {
  title: string;
  /** Markdown body. */
  body: string;
}

export interface IssueDocument {
  /** The title line exactly as written, e.g. "Important LLM Papers for the Week From 05/05 to 11/05". */
  title: string;
  subtitle: string;
  /** Markdown: paragraphs separated by one blank line. */
  intro: string;
  /** Table-of-contents entries as written (checked against sections; stored and exported as written). */
  tableOfContents: string[];
  asides: IssueAside[];
  /** ISO date YYYY-MM-DD, or null when it could not be determined. */
  weekStart: string | null;
  weekEnd: string | null;
  sections: IssueSection[];
  /** Markdown, may be empty. */
  outro: string;
}

export interface ParseWarning {
  /** 1-based line number in the input. */
  line: number;
  message: string;
}

export interface ParseOptions {
  format: 'text' | 'markdown';
  /** Year to use for "DD/MM" dates when the text does not name one. */
  year?: number;
  /** Editor override of the week (YYYY-MM-DD). weekEnd defaults to weekStart + 6 days. */
  weekStart?: string;
  weekEnd?: string;
  /** Turn numbering warnings (gaps, duplicates, paper outside its section) into errors. */
  strict?: boolean;
}

export interface ParseResult {
  document: IssueDocument;
  warnings: ParseWarning[];
}

/**
 * What the exporter reads of a stored edition (documentFromRows): only the
 * fields it needs, so that database rows fit without this layer knowing them.
 * The ids only tell which section a paper belongs to.
 */
export interface StoredIssue {
  title: string;
  subtitle: string;
  intro: string;
  outro: string;
  weekStart: string;
  weekEnd: string;
  asides: IssueAside[];
  /** As the editor wrote it; null: derived from the sections and asides. */
  tableOfContents: string[] | null;
}

export interface StoredSection {
  id: number;
  number: number;
  category: { name: string };
}

export interface StoredPaper {
  sectionId: number;
  /** 1-based place inside its section. */
  position: number;
  /** Absent or null: the paper was numbered as it is stored. */
  numberAsWritten?: string | null;
  title: string;
  summary: string;
  url: string | null;
  arxivId: string | null;
}
