import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.js';
import { openCommandDb } from './database.js';
import { DomainError } from '../errors.js';
import { DATE_RANGE, isIsoDateInRange } from '../newsletter/dates.js';
import type { IssuePaper } from '../newsletter/types.js';
import { type ImportOptions, type ImportResult, importIssueText } from '../editorial/service.js';

const USAGE = `Usage: npm run import -- FILE|DIR... [--format text|markdown] [--dry-run] [--publish]
                     [--week-start YYYY-MM-DD] [--week-end YYYY-MM-DD] [--year YYYY] [--replace] [--strict]

Imports editions (plain text *.txt or Markdown *.md; a directory imports every such file in it)
into DATABASE_URL, or the PGlite DATA_DIR. Each edition is written in one transaction.
--dry-run prints what was parsed and the warnings, and writes nothing.`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        publish: { type: 'boolean', default: false },
        'week-start': { type: 'string' },
        'week-end': { type: 'string' },
        year: { type: 'string' },
        replace: { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${USAGE}`);
  }
})();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length === 0) fail(USAGE);
if (values.format && values.format !== 'text' && values.format !== 'markdown')
  fail('--format must be text or markdown');
for (const flag of ['week-start', 'week-end'] as const) {
  const v = values[flag];
  if (v !== undefined && !isIsoDateInRange(v))
    fail(`--${flag} must be a date YYYY-MM-DD from ${DATE_RANGE.min} to ${DATE_RANGE.max}`);
}
if (values.year !== undefined && !/^\d{4}$/.test(values.year)) fail('--year must be a four-digit year');
if ((values['week-start'] || values['week-end']) && positionals.length > 1) {
  console.error('note: --week-start/--week-end apply to every file');
}

/** Files to import: the arguments, with directories expanded to their *.txt and *.md files. */
function collectFiles(args: string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(arg);
    } catch {
      fail(`${arg}: no such file or directory`);
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(arg).sort()) {
        if (/\.(txt|md|markdown)$/i.test(name)) files.push(path.join(arg, name));
      }
    } else files.push(arg);
  }
  return files;
}

/** "2.2", or "2.2 (written 2.3)" when the text numbered the paper otherwise (it is stored as 2.2). */
function paperNumber(p: IssuePaper): string {
  return p.numberAsWritten ? `${p.number} (written ${p.numberAsWritten})` : p.number;
}

function describe(file: string, r: ImportResult, dryRun: boolean): string {
  const lines = [
    `${file}: ${dryRun ? 'parsed (dry run, nothing written)' : r.created ? 'created' : 'replaced'} "${r.slug}" — ${r.document.title}`,
    `  week ${r.document.weekStart ?? '?'} to ${r.document.weekEnd ?? '?'}; ${r.document.sections.length} sections, ${r.paperCount} papers`,
  ];
  if (r.replaced) {
    const { kept, changed, added, removed } = r.replaced;
    lines.push(`  papers: ${kept} kept (${changed} of them changed), ${added} added, ${removed} removed`);
  }
  if (dryRun) {
    for (const s of r.document.sections) {
      lines.push(`  ${s.number}. ${s.categoryName}`);
      for (const p of s.papers)
        lines.push(`    ${paperNumber(p)}. ${p.title}  (${p.summary.split('\n\n').length} paragraphs)`);
    }
    for (const a of r.document.asides) lines.push(`  aside: ${a.title}`);
    lines.push(`  outro: ${r.document.outro ? `${r.document.outro.split('\n\n').length} paragraphs` : '(none)'}`);
  }
  for (const w of r.warnings) lines.push(`  warning: line ${w.line}: ${w.message}`);
  return lines.join('\n');
}

const files = collectFiles(positionals);
const config = loadConfig();
const handle = await openCommandDb(config, 'import');

const dryRun = values['dry-run'];
const bar =
  files.length > 1 && process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'importing [{bar}] {value}/{total} {file}' },
        cliProgress.Presets.shades_classic,
      )
    : null;
bar?.start(files.length, 0, { file: '' });

let ok = 0;
let failed = 0;
let papers = 0;
let warnings = 0;
const started = performance.now();
for (const file of files) {
  const format = values.format ?? (/\.(md|markdown)$/i.test(file) ? 'markdown' : 'text');
  const options: ImportOptions = {
    format: format as 'text' | 'markdown',
    dryRun,
    publish: values.publish,
    replace: values.replace,
    strict: values.strict,
    ...(values['week-start'] ? { weekStart: values['week-start'] } : {}),
    ...(values['week-end'] ? { weekEnd: values['week-end'] } : {}),
    ...(values.year ? { year: Number(values.year) } : {}),
  };
  try {
    const result = await importIssueText(handle.db, readFileSync(file), options);
    ok++;
    papers += result.paperCount;
    warnings += result.warnings.length;
    const text = describe(file, result, dryRun);
    if (bar) bar.increment({ file: path.basename(file) });
    if (!bar || result.warnings.length > 0 || dryRun) (bar ? console.error : console.log)(`${bar ? '\n' : ''}${text}`);
  } catch (err) {
    failed++;
    bar?.increment({ file: path.basename(file) });
    if (err instanceof DomainError) console.error(`${file}: ${err.name}: ${err.message}`);
    else console.error(`${file}: unexpected error:`, err);
  }
}
bar?.stop();
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.error(
  `${dryRun ? 'checked' : 'imported'} ${ok} of ${files.length} file(s): ${papers} papers, ${warnings} warning(s), ${failed} failed, in ${seconds} s`,
);
await handle.close();
process.exit(failed > 0 ? 1 : 0);
