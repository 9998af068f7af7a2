/**
 * The empty PGlite cluster a new embedded database starts from (src/db/pglite-template.ts), made by npm
 * install's postinstall step (scripts/pglite-template.mjs).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { pgliteTemplateFile, pgliteVersion } from '../src/db/pglite-template.js';
// @ts-expect-error: a plain ES module of scripts/ (no declarations)
import { templateFile } from '../scripts/pglite-template.mjs';
import { repoRoot } from './helpers/server.js';

const work = mkdtempSync(path.join(tmpdir(), 'llm-papers-template-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the PGlite cluster template', () => {
  it('is the file the postinstall script makes, named by the PGlite version, in node_modules/.cache', () => {
    const file = pgliteTemplateFile();
    expect(templateFile()).toBe(file);
    expect(file).toBe(
      path.join(repoRoot, 'node_modules', '.cache', 'llm-papers', `pglite-cluster-${pgliteVersion()}.tar.gz`),
    );
    // (nothing is made when it is there, as after npm ci)
    execFileSync(process.execPath, ['scripts/pglite-template.mjs'], { cwd: repoRoot, stdio: 'pipe' });
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBeGreaterThan(1_000_000);
  }, 60_000);

  it('makes a new data directory without initdb; the database migrates, keeps its settings and reopens', async () => {
    const dir = path.join(work, 'from-template');
    const first = await createDb({ dataDir: dir });
    try {
      expect(first.fromTemplate).toBe(true);
      expect(first.created).toBe(false);
      await first.migrate();
      expect(
        (await first.pglite!.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]?.shared_buffers,
      ).toBe('16MB');
      await first.pglite!.exec(`CREATE TABLE kept (name text); INSERT INTO kept VALUES ('Kept')`);
    } finally {
      await first.close();
    }
    const again = await createDb({ dataDir: dir });
    try {
      expect(again.fromTemplate).toBe(false);
      expect(again.created).toBe(false);
      const rows = (await again.pglite!.query<{ name: string }>('SELECT name FROM kept')).rows;
      expect(rows.map((r) => r.name)).toContain('Kept');
    } finally {
      await again.close();
    }
  }, 60_000);

  it('is not used with pgliteTemplate: false: initdb runs (DbHandle.created)', async () => {
    const dir = path.join(work, 'initdb');
    const first = await createDb({ dataDir: dir, pgliteTemplate: false });
    expect(first.created).toBe(true);
    expect(first.fromTemplate).toBe(false);
    await first.close();
    const again = await createDb({ dataDir: dir });
    expect(again.created).toBe(false);
    await again.close();
  }, 60_000);

  /**
   * A new database in a directory holding a lock file, from `template`: initdb must have run (the template did not
   * serve), the database must work and the lock file stay. Returns the process warnings emitted meanwhile.
   */
  async function openAfterBadTemplate(name: string, template: string): Promise<string> {
    const dir = path.join(work, `${name}-db`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '.lock'), 'held');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const handle = await createDb({ dataDir: dir, pgliteTemplate: template });
      try {
        expect(handle.created).toBe(true);
        expect(handle.fromTemplate).toBe(false);
        await handle.migrate();
        expect((await handle.pglite!.query('SELECT count(*)::int AS n FROM issues')).rows).toEqual([{ n: 0 }]);
      } finally {
        await handle.close();
      }
    } finally {
      process.off('warning', onWarning);
    }
    expect(readdirSync(dir)).toContain('.lock');
    expect(readdirSync(dir)).toContain('PG_VERSION');
    await new Promise((r) => setImmediate(r));
    return warnings.join('\n');
  }

  it.each([
    ['not gzip', () => Buffer.from('not a cluster at all')],
    ['a gzipped file that is not a cluster', () => execFileSync('gzip', ['-c'], { input: 'hello' })],
    ['cut short', () => execFileSync('head', ['-c', '100000', pgliteTemplateFile()])],
  ])(
    'when damaged (%s) is removed and initdb runs; the directory keeps what was in it',
    async (name, bytes) => {
      const file = path.join(work, `damaged-${name.replace(/\W+/g, '-')}.tar.gz`);
      writeFileSync(file, bytes());
      expect(await openAfterBadTemplate(`damaged-${name.replace(/\W+/g, '-')}`, file)).toContain('is damaged');
      expect(existsSync(file)).toBe(false);
    },
    60_000,
  );

  it('that PGlite cannot start from (a cluster of one file) is kept; what it extracted goes, and initdb runs', async () => {
    const tree = path.join(work, 'one-file', 'pgdata');
    mkdirSync(tree, { recursive: true });
    writeFileSync(path.join(tree, 'PG_VERSION'), '18\n');
    const file = path.join(work, 'one-file.tar.gz');
    execFileSync('tar', ['--format=ustar', '-czf', file, 'pgdata'], { cwd: path.dirname(tree) });
    expect(await openAfterBadTemplate('one-file', file)).toContain('failed');
    expect(existsSync(file)).toBe(true);
  }, 60_000);

  it('that the system will not read (here a directory: EISDIR) is kept, and initdb runs', async () => {
    const file = path.join(work, 'a-directory.tar.gz');
    mkdirSync(file, { recursive: true });
    const warnings = await openAfterBadTemplate('unreadable', file);
    expect(warnings).toMatch(/could not be used \(.*EISDIR/);
    expect(warnings).not.toContain('damaged');
    expect(statSync(file).isDirectory()).toBe(true);
  }, 60_000);

  it('replaces what a first start cut short left (no PG_VERSION yet): the next start is a first start', async () => {
    const dir = path.join(work, 'cut-short-start');
    mkdirSync(path.join(dir, 'base', '1'), { recursive: true });
    writeFileSync(path.join(dir, 'base', '1', '1259'), 'half a catalog');
    mkdirSync(path.join(dir, '.template', 'global'), { recursive: true });
    writeFileSync(path.join(dir, '.lock'), 'held');
    const handle = await createDb({ dataDir: dir });
    try {
      expect(handle.fromTemplate).toBe(true);
      await handle.migrate();
      expect((await handle.pglite!.query('SELECT count(*)::int AS n FROM issues')).rows).toEqual([{ n: 0 }]);
    } finally {
      await handle.close();
    }
    expect(readdirSync(dir)).not.toContain('.template');
    expect(readdirSync(dir)).toContain('.lock');
  }, 60_000);

  it('PGLITE_TEMPLATE: on (default, also when empty) or off; anything else stops the start with a clear error', () => {
    expect(loadConfig({}).PGLITE_TEMPLATE).toBe('on');
    expect(loadConfig({ PGLITE_TEMPLATE: '' }).PGLITE_TEMPLATE).toBe('on');
    expect(loadConfig({ PGLITE_TEMPLATE: 'off' }).PGLITE_TEMPLATE).toBe('off');
    for (const bad of ['maybe', 'ON', ' off', 'false', '0', '/tmp/x.tar.gz'])
      expect(() => loadConfig({ PGLITE_TEMPLATE: bad })).toThrow(/PGLITE_TEMPLATE/);
  });

  it('is copied, not moved: two new directories from one template', async () => {
    const file = path.join(work, 'copy.tar.gz');
    copyFileSync(pgliteTemplateFile(), file);
    for (const name of ['one', 'two']) {
      const handle = await createDb({ dataDir: path.join(work, name), pgliteTemplate: file });
      expect(handle.fromTemplate).toBe(true);
      await handle.close();
    }
    expect(existsSync(file)).toBe(true);
  }, 60_000);
});
