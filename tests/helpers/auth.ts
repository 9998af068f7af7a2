import { createToken } from '../../src/auth/tokens.js';
import type { Db } from '../../src/db/client.js';

let counter = 0;

/** Creates a token in the database and returns the Authorization header that carries it. */
export async function authHeader(db: Db, scope: 'editor' | 'admin' = 'editor', expiresAt: Date | null = null) {
  const { token } = await createToken(db, { name: `test-${scope}-${process.pid}-${++counter}`, scope, expiresAt });
  return { authorization: `Bearer ${token}` };
}
