import { and, asc, eq, isNull, lt, or, sql } from '../orm.js';
import type { Db } from '../client.js';
import { type ApiTokenRow, apiTokens } from '../schema.js';

export async function insertToken(
  db: Db,
  token: { name: string; tokenHash: string; scope: 'editor' | 'admin'; expiresAt: Date | null },
): Promise<ApiTokenRow> {
  const [row] = await db.insert(apiTokens).values(token).returning();
  return row!;
}

export function listTokens(db: Db): Promise<ApiTokenRow[]> {
  return db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt), asc(apiTokens.id));
}

/** Marks the token revoked; returns false when no active token has that name. */
export async function revokeTokenByName(db: Db, name: string): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.name, name), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

export async function tokenByHash(db: Db, tokenHash: string): Promise<ApiTokenRow | null> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
  return row ?? null;
}

/** Records use, at most once a minute per token (no write on every request). */
export async function touchToken(db: Db, id: number): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, id),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
}
