/**
 * Turning the input (a string or raw bytes) into checked text: UTF-8 only, no
 * lone surrogates, no NUL, not empty. Every refusal is an IssueParseError with
 * the line it happened on.
 */

export type IssueParseErrorCode = 'INVALID_ENCODING' | 'NUL_BYTE' | 'EMPTY' | 'STRUCTURE' | 'NUMBERING';

/** A hard error: the input cannot be imported. `line` is 1-based when known. */
export class IssueParseError extends Error {
  code: IssueParseErrorCode;
  line?: number;

  constructor(code: IssueParseErrorCode, message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'IssueParseError';
    this.code = code;
    if (line !== undefined) this.line = line;
  }
}

/** 1-based line of a position, counting "\r\n", "\r" and "\n" as one break each. */
function lineAtIndex(unitAt: (i: number) => number | undefined, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) {
    const unit = unitAt(i);
    if (unit === 0x0a || (unit === 0x0d && unitAt(i + 1) !== 0x0a)) line++;
  }
  return line;
}

const codeUnitOf =
  (text: string) =>
  (i: number): number | undefined =>
    i < text.length ? text.charCodeAt(i) : undefined;

/** Offset of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // Continuation count and the allowed range of the second byte (excludes
    // overlong forms, UTF-16 surrogates and code points above U+10FFFF).
    let count: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) count = 1;
    else if (lead === 0xe0) [count, low] = [2, 0xa0];
    else if (lead === 0xed) [count, high] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) count = 2;
    else if (lead === 0xf0) [count, low] = [3, 0x90];
    else if (lead === 0xf4) [count, high] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) count = 3;
    else return i;
    for (let k = 1; k <= count; k++) {
      const next = bytes[i + k];
      const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
      if (next === undefined || next < min || next > max) return i;
    }
    i += count + 1;
  }
  return -1;
}

function decodeBytes(bytes: Uint8Array): string {
  try {
    // Rule: invalid UTF-8 is rejected (fatal decoder); a leading BOM is dropped by the decoder.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8Offset(bytes));
    throw new IssueParseError(
      'INVALID_ENCODING',
      `the input is not valid UTF-8 (first invalid byte at offset ${offset})`,
      lineAtIndex((i) => bytes[i], offset),
    );
  }
}

/** Index of the first unpaired UTF-16 surrogate, or -1. */
function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
  }
  return -1;
}

/** Decodes and validates the input; returns the text without BOM. */
export function decodeInput(input: string | Uint8Array): string {
  let text: string;
  if (typeof input === 'string') {
    // Rule: a string with a lone surrogate cannot be stored as UTF-8.
    const bad = firstLoneSurrogate(input);
    if (bad >= 0) {
      throw new IssueParseError(
        'INVALID_ENCODING',
        'the input contains an unpaired UTF-16 surrogate',
        lineAtIndex(codeUnitOf(input), bad),
      );
    }
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    text = decodeBytes(input);
  }
  // Rule: NUL characters are rejected, with their line.
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    throw new IssueParseError('NUL_BYTE', 'the input contains a NUL character', lineAtIndex(codeUnitOf(text), nul));
  }
  // Rule: an input with no visible text is rejected.
  if (text.trim() === '') throw new IssueParseError('EMPTY', 'the input is empty');
  return text;
}
