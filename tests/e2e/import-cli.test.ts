/**
 * The import and export commands as a user runs them (`npm run import` runs
 * `node scripts/start.mjs src/cli/import.ts`), each
 * on its own PGlite directory: a process per command, so they live with the
 * other process-level tests rather than in the fast suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/server.js';

const FIXTURES = path.join(repoRoot, 'tests', 'fixtures', 'newsletter');

describe('the import and export commands', () => {
  const clean = () => readFileSync(path.join(FIXTURES, 'clean-edition.txt'), 'utf8');
  it('import a directory (dry run, then for real), export a file; bad bytes fail clearly', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'import-cli-'));
    const dataDir = path.join(work, 'data');
    const env = { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir };
    // The CLI runs on its own PGlite directory: this test is about the command, not the server database.
    const run = (args: string[]) => {
      try {
        const stdout = execFileSync(process.execPath, ['scripts/start.mjs', ...args], {
          cwd: repoRoot,
          env,
          encoding: 'utf8',
          stdio: 'pipe',
        });
        return { code: 0, stdout, stderr: '' };
      } catch (err) {
        // execFileSync's error carries the exit status and both outputs
        const failed = err as { status: number; stdout: unknown; stderr: unknown };
        return { code: failed.status, stdout: String(failed.stdout), stderr: String(failed.stderr) };
      }
    };
    try {
      const dir = path.join(work, 'in');
      execFileSync('mkdir', ['-p', dir]);
      writeFileSync(path.join(dir, 'a.txt'), clean());
      writeFileSync(path.join(dir, 'b.md'), readFileSync(path.join(FIXTURES, 'edition.md')));
      const dry = run(['src/cli/import.ts', dir, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/dry run, nothing written/);
      expect(dry.stdout).toMatch(/1\.1\. /);
      const real = run(['src/cli/import.ts', dir, '--publish']);
      expect(real.code).toBe(0);
      const slug = /created "([^"]+)"/.exec(real.stdout)![1]!;
      const out = path.join(work, 'out.md');
      expect(run(['src/cli/export.ts', slug, '--out', out]).code).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(/^# /);
      const again = run(['src/cli/import.ts', path.join(dir, 'a.txt')]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/ConflictError/);
      writeFileSync(path.join(work, 'bad.txt'), Buffer.from([0x54, 0x69, 0x74, 0x6c, 0x65, 0x0a, 0xff, 0xfe, 0x0a]));
      const bad = run(['src/cli/import.ts', path.join(work, 'bad.txt')]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/ParseError: .*UTF-8/i);
      for (const week of ['0000-01-03', '1066-10-09', '2025-02-30']) {
        const refused = run(['src/cli/import.ts', path.join(dir, 'a.txt'), '--week-start', week, '--replace']);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(/--week-start must be a date YYYY-MM-DD from 1900-01-01 to 9999-12-31/);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a numbering gap in the import command', () => {
  /** One section whose papers are written 1.1, 1.3, 1.4 (stored 1.1, 1.2, 1.3). */
  const gapped = [
    '# Important LLM Papers for the Week From 05/05 to 11/05',
    '<!-- week: 2025-05-05..2025-05-11 -->',
    '',
    'Stay Updated',
    '',
    '## Table of Contents',
    '',
    '- LLM Reasoning',
    '',
    '## 1. LLM Reasoning',
    ...[
      ['1.1', 'First'],
      ['1.3', 'Written Three'],
      ['1.4', 'Written Four'],
    ].flatMap(([n, title]) => ['', `### ${n}. ${title}`, '', `Summary of ${title}.`]),
    '',
  ].join('\n');

  it('the dry-run preview of the import command shows "1.2 (written 1.3)"', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'import-gap-'));
    try {
      const file = path.join(work, 'gap.md');
      writeFileSync(file, gapped);
      const stdout = execFileSync(process.execPath, ['scripts/start.mjs', 'src/cli/import.ts', file, '--dry-run'], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: '', DATA_DIR: path.join(work, 'data') },
        encoding: 'utf8',
        stdio: 'pipe',
      });
      expect(stdout).toContain('    1.2 (written 1.3). Written Three');
      expect(stdout).toContain('    1.1. First');
      expect(stdout).toMatch(/warning: line \d+: paper numbers jump from 1\.1 to 1\.3; stored as 1\.2\n/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
