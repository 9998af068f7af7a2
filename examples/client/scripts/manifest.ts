/**
 * Writes examples/client/persisted-operations.json: { "<sha256 hex>": "<document>" }
 * for every operation of the example client (the same text and hash the client
 * sends). `--check` exits 1 when the committed file is stale instead of writing.
 *
 *   npm run client:manifest [-- --check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { operations } from '../src/documents.js';
import { documentHash, documentText } from '../src/transport.js';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'persisted-operations.json');
const entries = operations.map((document) => [documentHash(document), documentText(document)] as const);
entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const json = `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing
  }
  if (current !== json) {
    console.error(`${path.relative(process.cwd(), file)} is stale: run npm run client:manifest and commit it`);
    process.exit(1);
  }
  console.error(`${path.relative(process.cwd(), file)} is up to date (${entries.length} operations)`);
} else {
  writeFileSync(file, json);
  console.error(`wrote ${path.relative(process.cwd(), file)} (${entries.length} operations)`);
}
