import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openCommandDb } from './database.js';
import { WITH_DRAFTS } from '../db/queries/fragments.js';
import { issueRows } from '../db/queries/issue-content.js';
import { documentFromRows } from '../newsletter/document.js';
import { renderMarkdown } from '../newsletter/markdown.js';

const USAGE = 'Usage: npm run export -- SLUG [--out FILE]   (drafts included; Markdown on stdout without --out)';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
if (positionals.length !== 1) {
  console.error(USAGE);
  process.exit(2);
}
const config = loadConfig();
const handle = await openCommandDb(config, 'export');
const rows = await issueRows(handle.db, positionals[0]!, WITH_DRAFTS);
await handle.close();
if (!rows) {
  console.error(`No edition with slug "${positionals[0]}"`);
  process.exit(1);
}
const markdown = renderMarkdown(documentFromRows(rows.issue, rows.sections, rows.papers));
if (values.out) {
  writeFileSync(values.out, markdown);
  console.error(`wrote ${values.out}`);
} else process.stdout.write(markdown);
