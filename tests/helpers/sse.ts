import { type AnyDocument, type GraphQLErrorBody, type ResultOfDocument, documentText } from './http.js';

/** One event of a subscription: an execution result. */
export interface SubscriptionEvent<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

/** Reads events one at a time; `close` cancels the stream. */
export interface SseReader<Event> {
  next(timeoutMs?: number): Promise<Event>;
  close(): Promise<void>;
}

/**
 * Reads GraphQL-over-SSE events from a streaming response, one `data:` payload at a time.
 * Given the subscription's document (from tests/graphql.ts), events carry its result type.
 */
export function sseReader<D extends AnyDocument>(
  res: Response,
  document: D,
): SseReader<SubscriptionEvent<ResultOfDocument<D>>>;
// biome-ignore lint/suspicious/noExplicitAny: without a document (a string or hostile one) the event is read as it comes
export function sseReader(res: Response): SseReader<any>;
export function sseReader(res: Response): SseReader<unknown> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(timeoutMs = 10_000): Promise<unknown> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (data) return JSON.parse(data) as unknown;
          continue; // keep-alive comment or event name only
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error('no event in time');
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event in time')), remaining)),
        ]);
        if (chunk.done) throw new Error('stream ended');
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}

/** A subscription's POST (a document from tests/graphql.ts, or a string). */
export function subscriptionRequest(
  document: string | AnyDocument,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query: documentText(document), variables }),
  };
}
