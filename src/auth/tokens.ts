import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/client.js';
import { insertToken, revokeTokenByName, tokenByHash, touchToken } from '../db/queries/tokens.js';
import type { ApiTokenRow } from '../db/schema.js';

/** Prefix of every token, so that leaked tokens are easy to recognise (and to scan for). */
export const TOKEN_PREFIX = 'llmp_';

/** Only this hash is stored; the token itself is shown once, at creation. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export interface CreatedToken {
  token: string;
  row: ApiTokenRow;
}

export async function createToken(
  db: Db,
  options: { name: string; scope: 'editor' | 'admin'; expiresAt?: Date | null },
): Promise<CreatedToken> {
  const token = generateToken();
  const row = await insertToken(db, {
    name: options.name,
    tokenHash: hashToken(token),
    scope: options.scope,
    expiresAt: options.expiresAt ?? null,
  });
  return { token, row };
}

export const revokeToken = revokeTokenByName;

export type TokenCheck =
  | { ok: true; row: ApiTokenRow }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/** Looks a presented token up. A bad token is never treated as "no token". */
export async function verifyToken(db: Db, token: string, now = new Date()): Promise<TokenCheck> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) {
    return { ok: false, reason: 'malformed' };
  }
  const row = await tokenByHash(db, hashToken(token));
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.revokedAt) return { ok: false, reason: 'revoked' };
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  await touchToken(db, row.id);
  return { ok: true, row };
}
