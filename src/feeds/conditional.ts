/**
 * HTTP validators and conditional GET (RFC 9110 §8.8 and §13), pure.
 */
import { createHash } from 'node:crypto';

/** A strong entity tag: the SHA-256 of the body, base64url. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body, 'utf8').digest('base64url')}"`;
}

/** An IMF-fixdate ("Mon, 12 May 2025 08:00:00 GMT"); HTTP dates have whole seconds. */
export function httpDate(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toUTCString();
}

const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/**
 * Whether a GET or HEAD with these request headers may be answered 304 Not
 * Modified. If-None-Match, when present, decides alone (weak comparison, "*"
 * matches anything); otherwise If-Modified-Since is compared with
 * Last-Modified at one-second precision. An unparseable date is ignored.
 */
export function isNotModified(headers: Headers, validators: { etag: string; lastModified: Date | null }): boolean {
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() === '*') return true;
    const mine = opaque(validators.etag);
    return ifNoneMatch.split(',').some((tag) => opaque(tag) === mine);
  }
  const ifModifiedSince = headers.get('if-modified-since');
  if (ifModifiedSince !== null && validators.lastModified !== null) {
    const since = Date.parse(ifModifiedSince);
    if (Number.isNaN(since)) return false;
    return Math.floor(validators.lastModified.getTime() / 1000) * 1000 <= since;
  }
  return false;
}
