/**
 * The one arXiv-identifier grammar of the project: the importer, the editorial
 * validation and `paperByArxivId` all read ids through it.
 *
 * New-style ids are `YYMM.NNNNN` (4 or 5 digits after the dot); old-style ones
 * are `archive(.SC)/YYMMNNN` (hep-th/9901001, math.GT/0309136). Either may carry
 * a version suffix (`v2`), which we never store.
 */

/** An id without version, unanchored and without capture groups (for composing). */
export const ARXIV_ID_SOURCE = String.raw`(?:\d{4}\.\d{4,5}|[a-z][a-z-]{0,20}(?:\.[a-z]{2})?\/\d{7})`;
/** A version suffix, optional. */
export const ARXIV_VERSION_SOURCE = String.raw`(?:v\d{1,3})?`;

/** An id as we store it: no version, archive in lowercase, subject class in uppercase. */
const CANONICAL_ID = /^(?:\d{4}\.\d{4,5}|[a-z][a-z-]{0,20}(?:\.[A-Z]{2})?\/\d{7})$/;
/** An id as people write it: any case, optional version. */
const WRITTEN_ID = new RegExp(`^(${ARXIV_ID_SOURCE})${ARXIV_VERSION_SOURCE}$`, 'i');
/** An arxiv.org abs/pdf/html URL; group 1 is the URL without query, group 2 the id. */
const URL_SOURCE = String.raw`((?:https?:\/\/)?(?:www\.|export\.)?arxiv\.org\/(?:abs|pdf|html)\/(${ARXIV_ID_SOURCE})${ARXIV_VERSION_SOURCE}(?:\.pdf)?\/?)`;
const URL_RE = new RegExp(`^${URL_SOURCE}(?:[?#].*)?$`, 'i');
const DOI_RE = new RegExp(
  String.raw`^(?:doi:\s*|(?:https?:\/\/)?(?:dx\.)?doi\.org\/)?10\.48550\/arxiv\.(${ARXIV_ID_SOURCE})${ARXIV_VERSION_SOURCE}$`,
  'i',
);
const PREFIXED_ID = new RegExp(`^arxiv:(${ARXIV_ID_SOURCE})${ARXIV_VERSION_SOURCE}$`, 'i');

/** "arXiv: 2505.03335" / "arXiv id: …" as a line of a summary; group 1 is the id. */
export const ARXIV_LABEL_LINE = new RegExp(
  String.raw`^arxiv(?:[ \t]+id)?[ \t]*:[ \t]*(${ARXIV_ID_SOURCE})${ARXIV_VERSION_SOURCE}$`,
  'i',
);
/** "Label: https://arxiv.org/abs/…" or a bare arXiv URL line; group 1 is the URL, group 2 the id. */
export const ARXIV_URL_LINE = new RegExp(
  String.raw`^(?:[^:]{1,80}:[ \t]*)?(https?:\/\/(?:www\.)?arxiv\.org\/(?:abs|pdf|html)\/(${ARXIV_ID_SOURCE})${ARXIV_VERSION_SOURCE}(?:\.pdf)?\/?)$`,
  'i',
);

/** True when `s` is an id in stored form (no version, canonical case). */
export function isCanonicalArxivId(s: string): boolean {
  return CANONICAL_ID.test(s);
}

/** True when `s` reads as an arXiv id, in any case, with or without version. */
export function looksLikeArxivId(s: string): boolean {
  return WRITTEN_ID.test(s);
}

/** The stored form of an id as written: version dropped, archive lowercased, subject class uppercased. */
export function canonicalArxivId(written: string): string {
  const noVersion = written.replace(/v\d{1,3}$/i, '');
  const slash = noVersion.indexOf('/');
  if (slash < 0) return noVersion;
  const [archive = '', cls] = noVersion.slice(0, slash).split('.');
  return `${archive.toLowerCase()}${cls ? `.${cls.toUpperCase()}` : ''}${noVersion.slice(slash)}`;
}

/**
 * The arXiv id (stored form) in an identifier: a bare id with or without version
 * or `arXiv:` prefix, an arXiv abs/pdf/html URL or an arXiv DOI. null when it is none of those.
 */
export function parseArxivIdentifier(input: string): string | null {
  const s = input.trim();
  if (s.length === 0 || s.length > 300 || s.includes('\u0000')) return null;
  const bare = WRITTEN_ID.exec(s) ?? PREFIXED_ID.exec(s) ?? DOI_RE.exec(s);
  if (bare?.[1]) return canonicalArxivId(bare[1]);
  const url = URL_RE.exec(s);
  if (url?.[2]) return canonicalArxivId(url[2]);
  return null;
}
