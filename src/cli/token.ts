import { parseArgs } from 'node:util';
import { createToken, revokeToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { openCommandDb } from './database.js';
import { classifyDbError } from '../db/errors.js';
import { listTokens } from '../db/queries/tokens.js';

const USAGE = `Usage:
  npm run token -- create --name NAME --scope editor|admin [--expires-in-days N]
      prints the new token alone on stdout (shown once; only its hash is stored)
  npm run token -- list
  npm run token -- revoke NAME`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        scope: { type: 'string' },
        'expires-in-days': { type: 'string' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
})();

const command = positionals[0];
if (!command || !['create', 'list', 'revoke'].includes(command)) fail(USAGE);

// Check the arguments before opening the database.
const createArgs = command === 'create' ? checkCreateArgs() : null;

function checkCreateArgs(): { name: string; scope: 'editor' | 'admin'; expiresAt: Date | null } {
  const name = values.name;
  if (!name || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(name))
    fail('--name is required: 1–100 letters, digits, space, . _ -');
  const scope = values.scope;
  if (scope !== 'editor' && scope !== 'admin') fail('--scope must be editor or admin');
  let expiresAt: Date | null = null;
  if (values['expires-in-days'] !== undefined) {
    const days = Number(values['expires-in-days']);
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      fail('--expires-in-days must be a whole number from 1 to 3650');
    expiresAt = new Date(Date.now() + days * 86_400_000);
  }
  return { name, scope, expiresAt };
}

const config = loadConfig();
const handle = await openCommandDb(config, 'token');
try {
  if (command === 'create') {
    const { name, scope, expiresAt } = createArgs!;
    try {
      const { token, row } = await createToken(handle.db, { name, scope, expiresAt });
      console.error(
        `created ${row.scope} token "${row.name}"${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ''}; it is shown once:`,
      );
      process.stdout.write(`${token}\n`);
    } catch (err) {
      if (classifyDbError(err)?.kind === 'unique') fail(`a token named "${name}" already exists`, 1);
      throw err;
    }
  } else if (command === 'list') {
    const rows = await listTokens(handle.db);
    if (rows.length === 0) console.error('no tokens');
    for (const r of rows) {
      const state = r.revokedAt
        ? `revoked ${r.revokedAt.toISOString()}`
        : r.expiresAt && r.expiresAt < new Date()
          ? 'expired'
          : 'active';
      console.log(
        [
          r.name,
          r.scope,
          state,
          `created ${r.createdAt.toISOString()}`,
          `last used ${r.lastUsedAt?.toISOString() ?? 'never'}`,
          `expires ${r.expiresAt?.toISOString() ?? 'never'}`,
        ].join('\t'),
      );
    }
  } else {
    const name = positionals[1] ?? values.name;
    if (!name) fail('Usage: npm run token -- revoke NAME');
    if (!(await revokeToken(handle.db, name))) fail(`no active token named "${name}"`, 1);
    console.error(`revoked "${name}"`);
  }
} finally {
  await handle.close();
}
