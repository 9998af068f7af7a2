import type { Plugin } from 'graphql-yoga';
import type { RunOperation } from '../../mcp/server.js';
import { readLimited } from '../pipeline/limits.js';

/**
 * The MCP SDK and our MCP server, loaded on the first `/mcp` request rather than at start: most processes never
 * answer one, and they hold about 8 MB of the server's memory (BENCHMARKS.md, start-up and memory).
 */
let mcpModules:
  | Promise<
      [
        typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
        typeof import('../../mcp/server.js'),
      ]
    >
  | undefined;
const loadMcp = () =>
  (mcpModules ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('../../mcp/server.js'),
  ]));

/** Largest MCP request body (a JSON-RPC message: a tool call's arguments are small). */
export const MCP_MAX_BODY_BYTES = 64 * 1024;

/** Headers of the MCP request passed on to the API: who is asking (token, address behind a proxy) and the request id. */
const FORWARDED = ['authorization', 'x-forwarded-for', 'x-request-id', 'user-agent'];

/** Something that answers fetch requests: the app itself (set once it is built). */
type FetchApp = { fetch: (request: Request, serverContext: Record<string, unknown>) => Promise<Response> | Response };

const jsonRpcError = (status: number, code: number, message: string, extraHeaders: Record<string, string> = {}) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...extraHeaders },
  });

/**
 * `POST /mcp`: the Model Context Protocol over Streamable HTTP, stateless
 * (a new MCP server per request, JSON responses, no session, no GET stream).
 * Each tool runs its GraphQL operation through the app itself with the
 * caller's headers and connection, so its limits, visibility and rate
 * budgets apply as to any GraphQL request; anonymous callers see published
 * content, a bearer token gives the editor's view.
 */
export function mcpRoutes(app: () => FetchApp): Plugin {
  return {
    async onRequest({ request, url, endResponse, serverContext }) {
      if (url.pathname !== '/mcp') return;
      if (request.method !== 'POST') {
        endResponse(
          jsonRpcError(405, -32000, 'Method not allowed: this MCP server is stateless (POST only).', { allow: 'POST' }),
        );
        return;
      }
      const body = await readLimited(request, MCP_MAX_BODY_BYTES).catch((err: { extensions?: { code?: string } }) => {
        if (err.extensions?.code === 'PAYLOAD_TOO_LARGE') return null;
        throw err;
      });
      if (body === null) {
        endResponse(jsonRpcError(413, -32600, `Request body too large (at most ${MCP_MAX_BODY_BYTES} bytes).`));
        return;
      }
      const run: RunOperation = async (document, variables) => {
        const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json' });
        for (const name of FORWARDED) {
          const value = request.headers.get(name);
          if (value !== null) headers.set(name, value);
        }
        const res = await app().fetch(
          new Request(new URL('/graphql', request.url), {
            method: 'POST',
            headers,
            body: JSON.stringify({ query: document, variables }),
          }),
          (serverContext ?? {}) as Record<string, unknown>,
        );
        const result = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown>; errors?: [] };
        return {
          status: res.status,
          data: result.data,
          errors: result.errors,
          retryAfter: res.headers.get('retry-after'),
        };
      };
      const [{ WebStandardStreamableHTTPServerTransport }, { createMcpServer }] = await loadMcp();
      const server = createMcpServer(run);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      try {
        const replay = new Request(request.url, { method: 'POST', headers: request.headers, body });
        endResponse(await transport.handleRequest(replay));
      } finally {
        await server.close();
      }
    },
  };
}
