/**
 * Parser for one edition of "Important LLM Papers for the Week", either as the
 * plain text it is published as (format 'text') or as the Markdown export
 * (format 'markdown', see ../markdown.ts). Pure: no I/O, no clock.
 *
 * The rules are documented in docs/import-format.md; every rule in these
 * modules carries a "Rule:" comment that names it.
 */
import type { ParseOptions, ParseResult } from '../types.js';
import { decodeInput } from './decode.js';
import { splitLines } from './lines.js';
import { MarkdownParser } from './markdown-format.js';
import { TextParser } from './text-format.js';

export { IssueParseError } from './decode.js';

/**
 * Parses one edition. Hard errors throw IssueParseError (encoding, NUL,
 * empty input, no structure, numbering in strict mode); everything else that
 * is doubtful is returned as a warning with its 1-based line.
 */
export function parseIssue(input: string | Uint8Array, options: ParseOptions): ParseResult {
  if (options.format !== 'text' && options.format !== 'markdown') {
    throw new TypeError(`options.format must be 'text' or 'markdown', got ${JSON.stringify(options.format)}`);
  }
  const lines = splitLines(decodeInput(input));
  const parser = options.format === 'text' ? new TextParser(lines, options) : new MarkdownParser(lines, options);
  return parser.parse();
}
