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
  missing: 'The Authorization header must be "Bearer <token>"',
  malformed: 'The API token is not valid',
  unknown: 'The API token is not valid',
  revoked: 'The API token has been revoked',
  expired: 'The API token has expired',
} as const;

function unauthenticated(reason: keyof typeof MESSAGES): GraphQLError {
  return new GraphQLError(MESSAGES[reason], {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="llm-papers"' } },
    },
  });
}

/**
 * The viewer of a request from its Authorization header. No header: an
 * anonymous reader. A header with a bad, revoked or expired token: a 401 —
 * never a silent downgrade to anonymous.
 */
export async function viewerFromRequest(db: Db, request: Request): Promise<Viewer> {
  const header = request.headers.get('authorization');
  if (header === null) return anonymousViewer;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) throw unauthenticated('missing');
  const check = await verifyToken(db, match[1]!);
  if (!check.ok) throw unauthenticated(check.reason);
  return { kind: check.row.scope, canSeeDrafts: true, tokenName: check.row.name };
}
