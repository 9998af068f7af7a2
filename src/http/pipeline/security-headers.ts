import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { GRAPHIQL_ASSETS_PATH } from '../paths.js';

/**
 * Two headers on every response:
 *
 * - `X-Content-Type-Options: nosniff`: browsers take the Content-Type as
 *   given (a feed, Markdown or JSON is never sniffed into HTML).
 * - `Content-Security-Policy: default-src 'none'; …`: should a response be
 *   shown as a document anyway, it may load, run, frame and submit nothing.
 *
 * GraphiQL (its page — GET on the endpoint with `Accept: text/html` — and its
 * assets under GRAPHIQL_ASSETS_PATH) runs scripts: it gets no CSP from here
 * (src/http/routes/graphiql.ts sets its own headers).
 *
 * Two places apply them: `securityHeaders()`, a Yoga plugin, on everything Yoga
 * answers (and so on what the response tier records and replays), and
 * `setSecurityHeaders()` in the node:http listener (src/server.ts), for what
 * is answered before Yoga (health, 503 while starting or draining, 413).
 */

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': CONTENT_SECURITY_POLICY,
};

const GRAPHQL_ENDPOINT = '/graphql';

const isEndpoint = (pathname: string) => pathname === GRAPHQL_ENDPOINT || pathname === `${GRAPHQL_ENDPOINT}/`;
const isAsset = (pathname: string) => pathname.startsWith(GRAPHIQL_ASSETS_PATH);

/**
 * Whether a request may be GraphiQL's (its page or an asset): decided on the
 * request alone, before anything answers it (the node:http listener).
 */
export function mayBeGraphiQL(
  method: string | undefined,
  pathname: string,
  accept: string | null | undefined,
): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  return isAsset(pathname) || (isEndpoint(pathname) && !!accept?.includes('text/html'));
}

/** Whether a response Yoga made is GraphiQL's: an asset, or HTML on the endpoint. */
function isGraphiQLResponse(pathname: string, response: Response): boolean {
  if (isAsset(pathname)) return true;
  return isEndpoint(pathname) && (response.headers.get('content-type') ?? '').startsWith('text/html');
}

/** The Yoga plugin: both headers on every response but GraphiQL's, which gets nosniff only. */
export function securityHeaders(): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      const pathname = new URL(request.url, 'http://localhost').pathname;
      const add: Record<string, string> = isGraphiQLResponse(pathname, response)
        ? { 'x-content-type-options': 'nosniff' }
        : { ...SECURITY_HEADERS };
      try {
        for (const [name, value] of Object.entries(add)) response.headers.set(name, value);
      } catch {
        // Immutable headers (Response.redirect, Response.error): the same response, with headers of its own.
        const headers = new fetchAPI.Headers(response.headers);
        for (const [name, value] of Object.entries(add)) headers.set(name, value);
        setResponse(
          new fetchAPI.Response(response.body, { status: response.status, statusText: response.statusText, headers }),
        );
      }
    },
  };
}

/**
 * For the node:http listener: sets both headers on `res` before anything
 * answers (headers written later with the same names replace them, so a
 * response from Yoga carries them once). A request that may be GraphiQL's
 * gets nosniff only; Yoga's plugin decides on its response.
 */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  const pathname = (req.url ?? '/').split('?')[0]!;
  if (!mayBeGraphiQL(req.method, pathname, req.headers.accept)) {
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  }
}
