import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Db } from '../db/client.js';
import { verifyToken } from './tokens.js';

/** Who is asking. Anonymous readers see published editions only. */
export interface Viewer {
  kind: 'anonymous' | 'editor' | 'admin';
  /** Whether drafts are visible to this viewer. */
  canSeeDrafts: boolean;
  /** Name of the API token used, for logs. */
  tokenName?: string;
}

export const anonymousViewer: Viewer = { kind: 'anonymous', canSeeDrafts: false };

const MESSAGES = {
  empty:
    'The Authorization header is empty: send "Authorization: Bearer <token>", or no Authorization header at all to read anonymously',
  scheme: 'The Authorization header must be "Bearer <token>": the scheme Bearer, one space, then the token',
  malformed: 'The API token is not valid',
  unknown: 'The API token is not valid',
  revoked: 'The API token has been revoked',
  expired: 'The API token has expired',
} as const;

export type UnauthenticatedReason = keyof typeof MESSAGES;

/** The `WWW-Authenticate` challenge of every 401 (RFC 6750). */
export const WWW_AUTHENTICATE = 'Bearer realm="llm-papers"';

/** The message of a 401 for `reason`. */
export function unauthenticatedMessage(reason: UnauthenticatedReason): string {
  return MESSAGES[reason];
}

function unauthenticated(reason: UnauthenticatedReason): GraphQLError {
  return new GraphQLError(MESSAGES[reason], {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } },
    },
  });
}

/** What an Authorization header carries. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  /** A header that is present but not `Bearer <token68>`: a 401, never anonymous. */
  | { kind: 'invalid'; reason: 'empty' | 'scheme' };

/**
 * `Bearer <token68>` (RFC 7235 / RFC 6750): the scheme in any case, one or
 * more spaces or tabs, then the token; whitespace around is tolerated (HTTP
 * trims it anyway). Anything else in a header that is present is invalid.
 */
const BEARER = /^[ \t]*bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/** Reads an Authorization header (null or undefined: absent). */
export function parseAuthorization(header: string | null | undefined): Credentials {
  if (header === null || header === undefined) return { kind: 'none' };
  if (header.trim() === '') return { kind: 'invalid', reason: 'empty' };
  const match = BEARER.exec(header);
  return match ? { kind: 'bearer', token: match[1]! } : { kind: 'invalid', reason: 'scheme' };
}

/**
 * The rate-limit key of a token: the principal it names, whatever the
 * header's spelling (`bearer T`, `Bearer  T`, `BEARER<TAB>T` are one client).
 * A one-way hash, separate from the stored token hash.
 */
export function principalKey(token: string): string {
  return `token:${createHash('sha256').update('llmp-rate-limit\0').update(token, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * The viewer of a request from its Authorization header. No header: an
 * anonymous reader. A header that is present — empty, another scheme, a bad,
 * revoked or expired token — is a 401, never a silent downgrade to anonymous.
 */
export async function viewerFromRequest(db: Db, request: Request): Promise<Viewer> {
  const credentials = parseAuthorization(request.headers.get('authorization'));
  if (credentials.kind === 'none') return anonymousViewer;
  if (credentials.kind === 'invalid') throw unauthenticated(credentials.reason);
  const check = await verifyToken(db, credentials.token);
  if (!check.ok) throw unauthenticated(check.reason);
  return { kind: check.row.scope, canSeeDrafts: true, tokenName: check.row.name };
}
