/** Line-level helpers shared by the builder, the week reader and both formats. */
import { slugify } from '../slug.js';

export interface SourceLine {
  /** 1-based line number in the input. */
  line: number;
  text: string;
}

/** Where a reader reports something doubtful: a warning with its 1-based line. */
export type Warn = (line: number, message: string) => void;

export const BLANK = /^[ \t]*$/;
const LEADING_NUMBER = /^\d{1,4}\.[ \t\u00a0]+/;

/** Rule: CRLF, CR and LF all end a line. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Short, single-line excerpt for warning messages (lines may be 1 MB long). */
export function excerpt(text: string, max = 60): string {
  const flat = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(flat);
}

/**
 * Key used to compare TOC entries, section names and aside titles: the slug of
 * the text without a leading "2. " (TOC entries may be numbered); when the slug
 * is empty (e.g. only emoji), the lower-cased text itself.
 */
export function matchKey(text: string): string {
  const withoutNumber = text.replace(LEADING_NUMBER, '');
  return slugify(withoutNumber) || `=${withoutNumber.trim().toLowerCase()}`;
}
