#!/usr/bin/env node
/**
 * Example client of the Important LLM Papers API, fully typed from schema.graphql
 * (gql.tada). It prints the latest edition, pages through a category and waits
 * for the next published edition.
 *
 *   node examples/client/dist/main.js [--url http://localhost:4000/graphql]
 *     [--category llm-reasoning] [--page-size 5] [--no-subscribe]
 *     [--timeout 30] [--persisted] [--token llmp_…]
 */
import { parseArgs } from 'node:util';
import { CategoryPapersQuery, IssuePublishedSubscription, LatestIssueQuery } from './documents.js';
import type { ResultOf } from './graphql.js';
import { GraphQLRequestError, createClient } from './transport.js';

const USAGE = `Usage: node examples/client/dist/main.js [--url URL] [--category SLUG] [--page-size N]
       [--no-subscribe] [--timeout SECONDS] [--persisted] [--token TOKEN]`;

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.API_URL ?? 'http://localhost:4000/graphql' },
    category: { type: 'string' },
    'page-size': { type: 'string', default: '5' },
    'no-subscribe': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '30' },
    persisted: { type: 'boolean', default: false },
    token: { type: 'string', default: process.env.API_TOKEN },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const pageSize = Number(values['page-size']);
const timeoutSec = Number(values.timeout);
if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100 || !(timeoutSec > 0)) {
  console.error(USAGE);
  process.exit(2);
}

const client = createClient({ url: values.url, token: values.token, persisted: values.persisted });

type Issue = NonNullable<ResultOf<typeof LatestIssueQuery>['latestIssue']>;

function printIssue(issue: Issue): void {
  console.log(`Latest issue: ${issue.title} (${issue.slug}, ${issue.weekStart} – ${issue.weekEnd})`);
  for (const section of issue.sections) {
    console.log(`  ${section.number}. ${section.category.name} [${section.category.slug}]`);
    for (const paper of section.papers) {
      console.log(`    ${paper.number} ${paper.title}${paper.arxivId ? ` (arXiv ${paper.arxivId})` : ''}`);
    }
  }
}

async function latestIssue(): Promise<Issue | null> {
  const { latestIssue } = await client.request(LatestIssueQuery, {});
  if (!latestIssue) console.log('Latest issue: none published yet');
  else printIssue(latestIssue);
  return latestIssue;
}

/** Follows pageInfo.endCursor until hasNextPage is false. */
async function pageThroughCategory(slug: string): Promise<number> {
  let after: string | null = null;
  let page = 0;
  let seen = 0;
  for (;;) {
    const data: ResultOf<typeof CategoryPapersQuery> = await client.request(CategoryPapersQuery, {
      slug,
      first: pageSize,
      after,
    });
    const category = data.category;
    if (!category) {
      console.log(`Category ${slug}: not found`);
      return 0;
    }
    page += 1;
    if (page === 1)
      console.log(`Category: ${category.name} (${category.papers.totalCount} papers, ${pageSize} per page)`);
    console.log(`  page ${page}:`);
    for (const { node } of category.papers.edges) {
      seen += 1;
      console.log(`    ${node.issue.weekStart} ${node.number} ${node.title}`);
    }
    const { hasNextPage, endCursor } = category.papers.pageInfo;
    if (!hasNextPage || !endCursor) break;
    after = endCursor;
  }
  console.log(`Category done: ${seen} papers in ${page} pages`);
  return seen;
}

/** Waits for one `issuePublished` event, at most `timeoutSec`. */
async function waitForPublication(): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`no edition published within ${timeoutSec} s`)),
    timeoutSec * 1000,
  );
  try {
    const events = client.subscribe(
      IssuePublishedSubscription,
      {},
      {
        signal: abort.signal,
        onOpen: () => console.log('Subscribed to issuePublished; waiting for the next edition…'),
      },
    );
    for await (const { issuePublished: issue } of events) {
      console.log(
        `Published: ${issue.title} (${issue.slug}, week of ${issue.weekStart}, ${issue.paperCount} papers, at ${issue.publishedAt ?? '?'})`,
      );
      return;
    }
    throw new Error('the event stream ended before any edition was published');
  } catch (err) {
    if (abort.signal.aborted) throw abort.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

try {
  const issue = await latestIssue();
  const slug = values.category ?? issue?.sections[0]?.category.slug;
  if (slug) await pageThroughCategory(slug);
  if (!values['no-subscribe']) await waitForPublication();
  console.log('Done.');
  process.exit(0);
} catch (err) {
  const message =
    err instanceof GraphQLRequestError
      ? `${err.message} (HTTP ${err.status})`
      : err instanceof Error
        ? err.message
        : String(err);
  console.error(`Error: ${message}`);
  process.exit(1);
}
