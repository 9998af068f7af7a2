/**
 * The archive for AI assistants: a Model Context Protocol server (tools,
 * resources, prompts) on top of the GraphQL API. Every read is one of
 * MCP_OPERATIONS run through `run` — the API itself, with the caller's
 * credentials — so limits, visibility (drafts only with an editor token),
 * cache and rate budgets are the API's; there is no second data path and
 * no write tool. The transports (HTTP at /mcp, stdio) are in
 * src/http/routes/mcp.ts and src/cli/mcp.ts.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { MCP_OPERATIONS } from './operations.js';

/** A GraphQL error as the API answers it. */
export interface ApiError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** What `run` gives back: the GraphQL result, the HTTP status and the Retry-After header (rate limits). */
export interface ApiResult {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: ApiError[];
  retryAfter: string | null;
}

/** Runs one operation through the API on behalf of the MCP client. */
export type RunOperation = (document: string, variables: Record<string, unknown>) => Promise<ApiResult>;

/** An API failure, carried to the client as an MCP error with the API's code. */
export class ApiFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfter: string | null,
  ) {
    super(message);
  }
}

async function query<T>(run: RunOperation, document: string, variables: Record<string, unknown>): Promise<T> {
  const result = await run(document, variables);
  const first = result.errors?.[0];
  if (first || !result.data) {
    const code = first?.extensions?.code ?? (result.status === 429 ? 'RATE_LIMITED' : 'INTERNAL_SERVER_ERROR');
    throw new ApiFailure(code, first?.message ?? `the API answered ${result.status}`, result.retryAfter);
  }
  return result.data as T;
}

/** A tool's failure as an MCP tool error: `CODE: message` (and when to retry). */
function toolError(err: unknown): CallToolResult {
  if (err instanceof ApiFailure) {
    const retry = err.retryAfter ? ` Retry after ${err.retryAfter} s.` : '';
    return {
      isError: true,
      content: [{ type: 'text', text: `${err.code}: ${err.message}${retry}` }],
      _meta: { code: err.code, ...(err.retryAfter ? { retryAfter: Number(err.retryAfter) } : {}) },
    };
  }
  throw err;
}

/** Runs a tool body, turning API failures into tool errors. */
async function tool(
  body: () => Promise<{ text: string; structured: Record<string, unknown> }>,
): Promise<CallToolResult> {
  try {
    const { text, structured } = await body();
    return { content: [{ type: 'text', text }], structuredContent: structured };
  } catch (err) {
    return toolError(err);
  }
}

const arxivUrl = (id: string | null) => (id ? `https://arxiv.org/abs/${id}` : null);

interface Hit {
  score: number;
  node: {
    id: string;
    number: string;
    title: string;
    arxivId: string | null;
    url: string | null;
    issue: { slug: string; weekStart: string };
    category: { slug: string; name: string };
  };
  matches: Array<{ field: 'TITLE' | 'SUMMARY'; fragment: string; highlights: Array<{ start: number; end: number }> }>;
}

/** A fragment with its matched words in **bold**. */
function marked(match: Hit['matches'][number] | undefined): string | null {
  if (!match) return null;
  let out = '';
  let at = 0;
  for (const h of match.highlights) {
    out += `${match.fragment.slice(at, h.start)}**${match.fragment.slice(h.start, h.end)}**`;
    at = h.end;
  }
  return out + match.fragment.slice(at);
}

interface PaperDetail {
  id: string;
  number: string;
  title: string;
  summary: string;
  url: string | null;
  arxivId: string | null;
  issue: { slug: string; title: string; weekStart: string };
  category: { slug: string; name: string };
  related: Array<{ id: string; number: string; title: string; issue: { slug: string } }>;
}

function paperMarkdown(p: PaperDetail): string {
  const links = [
    p.arxivId ? `arXiv: ${arxivUrl(p.arxivId)}` : null,
    p.url && p.url !== arxivUrl(p.arxivId) ? p.url : null,
  ]
    .filter(Boolean)
    .join(' · ');
  const related = p.related.map((r) => `- ${r.title} (${r.issue.slug}, ${r.number})`).join('\n');
  return [
    `# ${p.number} ${p.title}`,
    `${p.issue.title} (${p.issue.slug}) · ${p.category.name}${links ? ` · ${links}` : ''}`,
    p.summary,
    related ? `Related papers:\n${related}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

interface Edition {
  slug: string;
  title: string;
  weekStart: string;
  weekEnd: string;
  markdown: string;
}

async function edition(run: RunOperation, slug: string): Promise<Edition> {
  const data =
    slug === 'latest'
      ? await query<{ latestIssue: Edition | null }>(run, MCP_OPERATIONS.latestEdition, {})
      : await query<{ issue: Edition | null }>(run, MCP_OPERATIONS.edition, { slug });
  const found = 'latestIssue' in data ? data.latestIssue : data.issue;
  if (!found) throw new ApiFailure('NOT_FOUND', `no published edition "${slug}"`, null);
  return found;
}

async function paper(
  run: RunOperation,
  by: {
    id?: string | undefined;
    arxivId?: string | undefined;
    issue?: string | undefined;
    number?: string | undefined;
  },
): Promise<PaperDetail> {
  const ways = [by.id, by.arxivId, by.issue ?? by.number].filter((v) => v !== undefined).length;
  if (ways !== 1 || (by.issue === undefined) !== (by.number === undefined)) {
    throw new ApiFailure('BAD_USER_INPUT', 'give exactly one of `id`, `arxivId`, or `issue` with `number`', null);
  }
  let found: PaperDetail | null;
  if (by.id !== undefined) {
    const data = await query<{ node: PaperDetail | null }>(run, MCP_OPERATIONS.paperById, { id: by.id });
    found = data.node && 'number' in data.node ? data.node : null;
  } else if (by.arxivId !== undefined) {
    found = (
      await query<{ paperByIdentifier: PaperDetail | null }>(run, MCP_OPERATIONS.paperByArxivId, { id: by.arxivId })
    ).paperByIdentifier;
  } else {
    found = (
      await query<{ paper: PaperDetail | null }>(run, MCP_OPERATIONS.paperByNumber, {
        issue: by.issue,
        number: by.number,
      })
    ).paper;
  }
  if (!found) throw new ApiFailure('NOT_FOUND', 'no such paper (among those you may see)', null);
  return found;
}

/** A calendar date as YYYY-MM-DD (2025-02-30 is not one). */
const isDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
const date = z.string().refine((v) => {
  try {
    return isDate(v);
  } catch {
    return false;
  }
}, 'a calendar date, YYYY-MM-DD');
const slug = z.string().min(1).max(100);

const SearchResult = z.object({
  id: z.string(),
  number: z.string(),
  title: z.string(),
  edition: z.string(),
  weekStart: z.string(),
  category: z.string(),
  score: z.number(),
  fragment: z.string().nullable(),
  arxivUrl: z.string().nullable(),
});
const EditionSummary = z.object({
  slug: z.string(),
  title: z.string(),
  weekStart: z.string(),
  weekEnd: z.string(),
  paperCount: z.number(),
});
const PaperListItem = z.object({
  id: z.string(),
  number: z.string(),
  title: z.string(),
  edition: z.string(),
  arxivUrl: z.string().nullable(),
});

/** Server name and version announced to clients. */
export const MCP_SERVER_INFO = { name: 'llm-papers', version: '0.1.0' };

/** A new MCP server whose reads go through `run` (one per HTTP request in stateless mode, one per stdio process). */
export function createMcpServer(run: RunOperation): McpServer {
  const server = new McpServer(MCP_SERVER_INFO, {
    instructions:
      'The archive of the weekly newsletter "Important LLM Papers for the Week": editions of a dozen LLM papers in ' +
      'numbered categories, each with a summary. Search with search_papers, read a paper with get_paper and an ' +
      'edition with get_edition ("latest" for the newest). Read-only.',
  });

  server.registerTool(
    'search_papers',
    {
      title: 'Search papers',
      description:
        'Full-text search over titles and summaries, best match first (web syntax: "a phrase", -exclude, a or b; ' +
        'acronyms such as RL, CoT, MoE match their spelled-out forms). Returns up to `limit` papers with the passage that matched.',
      inputSchema: {
        query: z.string().min(1).max(500).describe('What to look for.'),
        category: slug.optional().describe('Only this category (its slug, see list_categories).'),
        weekFrom: date.optional().describe('Only editions of this week or later (YYYY-MM-DD).'),
        weekTo: date.optional().describe('Only editions of this week or earlier (YYYY-MM-DD).'),
        limit: z.number().int().min(1).max(20).default(10).describe('How many results (1 to 20).'),
      },
      outputSchema: {
        results: z.array(SearchResult),
        relaxed: z.boolean(),
        correctedQuery: z.string().nullable(),
        exhaustive: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      tool(async () => {
        const filter = {
          ...(args.category ? { categories: [args.category] } : {}),
          ...(args.weekFrom ? { weekFrom: args.weekFrom } : {}),
          ...(args.weekTo ? { weekTo: args.weekTo } : {}),
        };
        const data = await query<{
          searchPapers: { relaxed: boolean; correctedQuery: string | null; exhaustive: boolean; edges: Hit[] };
        }>(run, MCP_OPERATIONS.searchPapers, {
          q: args.query,
          first: args.limit,
          filter: Object.keys(filter).length > 0 ? filter : null,
        });
        const { relaxed, correctedQuery, exhaustive, edges } = data.searchPapers;
        const results = edges.map((e) => ({
          id: e.node.id,
          number: e.node.number,
          title: e.node.title,
          edition: e.node.issue.slug,
          weekStart: e.node.issue.weekStart,
          category: e.node.category.name,
          score: e.score,
          fragment: marked(e.matches.find((m) => m.field === 'SUMMARY') ?? e.matches[0]),
          arxivUrl: arxivUrl(e.node.arxivId),
        }));
        const lines = results.map(
          (r, i) =>
            `${i + 1}. ${r.title} — ${r.edition} ${r.number}, ${r.category}${r.arxivUrl ? ` (${r.arxivUrl})` : ''}${r.fragment ? `\n   ${r.fragment}` : ''}`,
        );
        const head =
          results.length === 0
            ? 'No papers found.'
            : correctedQuery !== null
              ? `No paper matches every word as written; results for "${correctedQuery}":`
              : relaxed
                ? 'No paper matches every word; closest:'
                : '';
        return {
          text: [head, ...lines].filter(Boolean).join('\n'),
          structured: { results, relaxed, correctedQuery, exhaustive },
        };
      }),
  );

  server.registerTool(
    'get_paper',
    {
      title: 'Get a paper',
      description:
        'One paper with its full summary (Markdown), edition, category and related papers. Give its `id`, its `arxivId`, or `issue` and `number` ("2.3").',
      inputSchema: {
        id: z.string().min(1).max(200).optional().describe('The paper’s global id (from search_papers).'),
        arxivId: z.string().min(1).max(200).optional().describe('An arXiv id, URL or DOI.'),
        issue: slug.optional().describe('The edition’s slug, e.g. 2025-05-05 (with `number`).'),
        number: z
          .string()
          .regex(/^\d{1,3}\.\d{1,3}$/, 'section.position, e.g. 2.3')
          .optional()
          .describe('Its number in the edition, e.g. 2.3 (with `issue`).'),
      },
      outputSchema: {
        id: z.string(),
        number: z.string(),
        title: z.string(),
        edition: z.string(),
        category: z.string(),
        arxivUrl: z.string().nullable(),
        url: z.string().nullable(),
        markdown: z.string(),
        related: z.array(z.object({ id: z.string(), title: z.string(), edition: z.string(), number: z.string() })),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      tool(async () => {
        const p = await paper(run, args);
        const markdown = paperMarkdown(p);
        return {
          text: markdown,
          structured: {
            id: p.id,
            number: p.number,
            title: p.title,
            edition: p.issue.slug,
            category: p.category.name,
            arxivUrl: arxivUrl(p.arxivId),
            url: p.url,
            markdown,
            related: p.related.map((r) => ({ id: r.id, title: r.title, edition: r.issue.slug, number: r.number })),
          },
        };
      }),
  );

  server.registerTool(
    'get_edition',
    {
      title: 'Get an edition',
      description: 'A whole edition as Markdown (the archive’s export format): its categories, papers and summaries.',
      inputSchema: { slug: slug.describe('The edition’s slug (e.g. 2025-05-05), or "latest".') },
      outputSchema: {
        slug: z.string(),
        title: z.string(),
        weekStart: z.string(),
        weekEnd: z.string(),
        markdown: z.string(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      tool(async () => {
        const e = await edition(run, args.slug);
        return { text: e.markdown, structured: { ...e } };
      }),
  );

  server.registerTool(
    'list_editions',
    {
      title: 'List editions',
      description: 'Editions, newest week first.',
      inputSchema: {
        limit: z.number().int().min(1).max(50).default(10).describe('How many (1 to 50).'),
        before: date
          .optional()
          .describe('Only editions of weeks starting before this date (YYYY-MM-DD): the next page.'),
      },
      outputSchema: { editions: z.array(EditionSummary) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      tool(async () => {
        const filter = args.before ? { weekTo: dayBefore(args.before) } : null;
        const data = await query<{ issues: { nodes: Array<z.infer<typeof EditionSummary>> } }>(
          run,
          MCP_OPERATIONS.editions,
          { first: args.limit, filter },
        );
        const editions = data.issues.nodes;
        const text = editions.map((e) => `- ${e.slug}: ${e.title} (${e.paperCount} papers)`).join('\n');
        return { text: text || 'No editions.', structured: { editions } };
      }),
  );

  server.registerTool(
    'list_categories',
    {
      title: 'List categories',
      description: 'The newsletter’s categories (slug, name, description, number of papers).',
      outputSchema: {
        categories: z.array(
          z.object({ slug: z.string(), name: z.string(), description: z.string(), paperCount: z.number() }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      tool(async () => {
        const data = await query<{
          categories: Array<{ slug: string; name: string; description: string; paperCount: number }>;
        }>(run, MCP_OPERATIONS.categories, {});
        const text = data.categories.map((c) => `- ${c.slug}: ${c.name} (${c.paperCount} papers)`).join('\n');
        return { text, structured: { categories: data.categories } };
      }),
  );

  server.registerTool(
    'papers_in_category',
    {
      title: 'Papers in a category',
      description:
        'The papers of one category, newest edition first; pass `after` (a previous `endCursor`) for the next page.',
      inputSchema: {
        category: slug.describe('The category’s slug (see list_categories).'),
        limit: z.number().int().min(1).max(50).default(10).describe('How many (1 to 50).'),
        after: z.string().max(500).optional().describe('The `endCursor` of the previous page.'),
      },
      outputSchema: { papers: z.array(PaperListItem), hasNextPage: z.boolean(), endCursor: z.string().nullable() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      tool(async () => {
        type Page = {
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          nodes: Array<{ id: string; number: string; title: string; arxivId: string | null; issue: { slug: string } }>;
        };
        const data = await query<{ category: { name: string; papers: Page } | null }>(
          run,
          MCP_OPERATIONS.papersInCategory,
          { slug: args.category, first: args.limit, after: args.after ?? null },
        );
        if (!data.category) throw new ApiFailure('NOT_FOUND', `no category "${args.category}"`, null);
        const { nodes, pageInfo } = data.category.papers;
        const papers = nodes.map((n) => ({
          id: n.id,
          number: n.number,
          title: n.title,
          edition: n.issue.slug,
          arxivUrl: arxivUrl(n.arxivId),
        }));
        const text = papers.map((p) => `- ${p.title} (${p.edition} ${p.number})`).join('\n');
        return {
          text: text || 'No papers.',
          structured: { papers, hasNextPage: pageInfo.hasNextPage, endCursor: pageInfo.endCursor },
        };
      }),
  );

  // Resources: editions and papers as Markdown documents.
  server.registerResource(
    'edition',
    new ResourceTemplate('llmpapers://editions/{slug}', {
      list: async () => {
        const data = await query<{ issues: { nodes: Array<z.infer<typeof EditionSummary>> } }>(
          run,
          MCP_OPERATIONS.editions,
          { first: 50, filter: null },
        );
        return {
          resources: data.issues.nodes.map((e) => ({
            uri: `llmpapers://editions/${e.slug}`,
            name: e.title,
            mimeType: 'text/markdown',
          })),
        };
      },
    }),
    { title: 'An edition', description: 'A whole edition in the Markdown export format.', mimeType: 'text/markdown' },
    async (uri, variables): Promise<ReadResourceResult> => {
      const e = await resourceRead(() => edition(run, String(variables.slug)));
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: e.markdown }] };
    },
  );

  server.registerResource(
    'paper',
    new ResourceTemplate('llmpapers://papers/{issue}/{number}', { list: undefined }),
    { title: 'A paper', description: 'One paper with its summary, as Markdown.', mimeType: 'text/markdown' },
    async (uri, variables): Promise<ReadResourceResult> => {
      const p = await resourceRead(() =>
        paper(run, { issue: String(variables.issue), number: String(variables.number) }),
      );
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: paperMarkdown(p) }] };
    },
  );

  server.registerPrompt(
    'weekly_digest',
    {
      title: 'Weekly digest',
      description: 'Summarise one edition for a reader in a hurry.',
      argsSchema: { slug: z.string().describe('The edition’s slug, or "latest".') },
    },
    async ({ slug: s }) => {
      const e = await resourceRead(() => edition(run, s));
      return {
        description: `A digest of ${e.title}`,
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text:
                `Write a short digest of this newsletter edition for a busy ML engineer: the three or four papers that ` +
                `matter most and why, one line each for the rest, grouped by category. Cite papers by their number.\n\n${e.markdown}`,
            },
          },
        ],
      };
    },
  );

  server.registerPrompt(
    'compare_papers',
    {
      title: 'Compare papers',
      description: 'Compare two or more papers of the archive.',
      argsSchema: { ids: z.string().describe('The papers’ global ids, separated by commas (from search_papers).') },
    },
    async ({ ids }) => {
      const list = ids
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (list.length < 2 || list.length > 5) {
        throw new ApiFailure('BAD_USER_INPUT', 'give 2 to 5 paper ids, separated by commas', null);
      }
      const papers = await Promise.all(list.map((id) => resourceRead(() => paper(run, { id }))));
      return {
        description: `A comparison of ${papers.length} papers`,
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text:
                'Compare these papers: the problem each addresses, its method, its results, and where they agree or ' +
                `differ. End with which to read first and why.\n\n${papers.map(paperMarkdown).join('\n\n---\n\n')}`,
            },
          },
        ],
      };
    },
  );

  return server;
}

/** Resources and prompts have no error result: an API failure becomes a protocol error carrying its code. */
async function resourceRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ApiFailure) throw new Error(`${err.code}: ${err.message}`);
    throw err;
  }
}

function dayBefore(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
