/**
 * `npm run mcp`: the archive's MCP server over stdio, for desktop assistants
 * that launch their servers as processes. It holds no database: every tool is
 * a GraphQL request to a running API (LLM_PAPERS_URL, default
 * http://localhost:4000), so it works beside the server on the embedded
 * database too, and the server's limits and visibility apply. LLM_PAPERS_TOKEN
 * (optional) is sent as a bearer token: an editor's token sees drafts.
 * Logs go to stderr: stdout carries the protocol.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type RunOperation, createMcpServer } from '../mcp/server.js';

const base = process.env.LLM_PAPERS_URL ?? 'http://localhost:4000';
const token = process.env.LLM_PAPERS_TOKEN;
let endpoint: URL;
try {
  endpoint = new URL('/graphql', base);
} catch {
  console.error(`LLM_PAPERS_URL is not a URL: ${base}`);
  process.exit(2);
}

const run: RunOperation = async (document, variables) => {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: document, variables }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    return {
      status: 503,
      errors: [
        {
          message: `the API at ${base} cannot be reached (${(err as Error).message}); is the server running?`,
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        },
      ],
      retryAfter: null,
    };
  }
  const body = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown>; errors?: [] };
  return { status: res.status, data: body.data, errors: body.errors, retryAfter: res.headers.get('retry-after') };
};

const server = createMcpServer(run);
await server.connect(new StdioServerTransport());
console.error(`llm-papers MCP server on stdio, reading ${endpoint.href}${token ? ' with a token' : ''}`);
