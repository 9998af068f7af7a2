import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createDb } from '../../src/db/client.js';
import { createThrowawayDatabase } from '../helpers/db.js';
import { gql } from '../helpers/http.js';
import { repoRoot } from '../helpers/server.js';
import { graphql } from '../graphql.js';

describe('npm run token', () => {
  it('create prints the token alone on stdout; list shows it; revoke makes it a 401', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'token-cli-'));
    const throwaway = process.env.DATABASE_URL ? await createThrowawayDatabase(process.env.DATABASE_URL) : null;
    const env = { ...process.env, DATABASE_URL: throwaway?.url ?? '', DATA_DIR: dataDir };
    const run = (...args: string[]) => {
      try {
        return {
          code: 0,
          stdout: execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['src/cli/token.ts', ...args], {
            cwd: repoRoot,
            env,
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          }),
        };
      } catch (err) {
        // execFileSync's error on a non-zero exit carries the status and the output
        const failed = err as { status: number; stdout: unknown; stderr: unknown };
        return { code: failed.status, stdout: String(failed.stdout), stderr: String(failed.stderr) };
      }
    };
    try {
      const created = run('create', '--name', 'ci editor', '--scope', 'editor');
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      expect(token).toMatch(/^llmp_[A-Za-z0-9_-]{43}$/);
      expect(created.stdout).toBe(`${token}\n`);
      expect(run('create', '--name', 'ci editor', '--scope', 'editor').code).toBe(1);
      expect(run('create', '--name', 'x', '--scope', 'owner').code).toBe(2);
      const list = run('list');
      expect(list.stdout).toMatch(/^ci editor\teditor\tactive/m);
      expect(list.stdout).not.toContain(token);

      // PGlite allows one process at a time: open the database only between CLI runs.
      const withApp = async (fn: (app: ReturnType<typeof createApp>) => Promise<void>) => {
        const handle = await createDb({ url: throwaway?.url, dataDir: throwaway ? undefined : dataDir });
        try {
          await fn(createApp({ db: handle.db }));
        } finally {
          await handle.close();
        }
      };
      await withApp(async (app) => {
        const ok = await gql(
          app,
          graphql(`mutation { createCategory(input: { slug: "via-cli", name: "Via CLI" }) { __typename } }`),
          undefined,
          {
            authorization: `Bearer ${token}`,
          },
        );
        expect(ok.body.data!.createCategory.__typename).toBe('CreateCategoryPayload');
      });
      expect(run('revoke', 'ci editor').code).toBe(0);
      await withApp(async (app) => {
        const denied = await gql(app, graphql(`{ latestIssue { slug } }`), undefined, {
          authorization: `Bearer ${token}`,
        });
        expect(denied.status).toBe(401);
        expect(denied.body.errors![0]!.message).toMatch(/revoked/);
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await throwaway?.drop();
    }
  }, 120_000);
});
