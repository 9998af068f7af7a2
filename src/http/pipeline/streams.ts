import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { addressKeyOf } from './rate-limits.js';

/**
 * Caps on subscription streams (Server-Sent Events): each holds a socket, a
 * file descriptor, buffers and a pub/sub listener for as long as it is open,
 * so one client address may hold `perClient` of them and the process
 * `perProcess`; beyond, a subscription is refused before it starts with 429
 * `TOO_MANY_STREAMS` and `Retry-After`. A stream's slot is given back the
 * moment it ends: the client goes away, the subscription completes or fails,
 * or the server ends it (`endAll`, on shutdown).
 */
export interface StreamLimitsOptions {
  /** Open streams per client address (X-Forwarded-For's first address with `trustProxy`). */
  perClient: number;
  /** Open streams in this process. */
  perProcess: number;
  trustProxy: boolean;
}

/** Caps nobody reaches (tests, embedding): streams are still counted. */
export const NO_STREAM_LIMITS: StreamLimitsOptions = { perClient: 1_000_000, perProcess: 1_000_000, trustProxy: false };

/** Seconds a refused client should wait before subscribing again. */
export const STREAMS_RETRY_AFTER_SECONDS = 5;

export interface Streams {
  readonly options: StreamLimitsOptions;
  /** Streams open now (the `graphql_streams_open` gauge). */
  readonly open: number;
  /** Streams open now by one client address key (`ip:…`). */
  openBy(key: string): number;
  /** The Yoga plugin that admits, counts and ends streams. */
  readonly plugin: Plugin;
  /**
   * Ends every open stream: each gets a last event with this error (code
   * SERVICE_UNAVAILABLE by default, so that clients subscribe again), then
   * `complete`. The server calls it when it shuts down.
   */
  endAll(message?: string, code?: string): void;
}

interface ExecutionResultLike {
  errors?: readonly GraphQLError[];
  data?: unknown;
}

/** The address a stream counts against, with or without a token. */
function addressKey(request: Request, context: unknown, trustProxy: boolean): string {
  const req = (context as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return addressKeyOf((name) => request.headers.get(name), req?.socket?.remoteAddress, trustProxy);
}

export function createStreams(options: StreamLimitsOptions = NO_STREAM_LIMITS): Streams {
  const byClient = new Map<string, number>();
  let open = 0;
  const live = new Set<{ end(result: ExecutionResultLike): void }>();

  const acquire = (key: string) => {
    open++;
    byClient.set(key, (byClient.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open--;
      const n = (byClient.get(key) ?? 1) - 1;
      if (n <= 0) byClient.delete(key);
      else byClient.set(key, n);
    };
  };

  /**
   * The stream as the client sees it: gives the slot back on its first end
   * (return, completion, failure), and can be ended by the server with a last
   * event. Not an async generator: those cannot stop while waiting for a value.
   */
  const guard = (source: AsyncIterable<unknown>, release: () => void) => {
    const it = source[Symbol.asyncIterator]();
    let finished = false;
    let farewell: ExecutionResultLike | undefined;
    let stopping = false;
    /** Settles the `next()` in progress, if any, as stopped (a new one per call: nothing piles up on a long stream). */
    let interrupt: (() => void) | undefined;
    const wake = () => interrupt?.();
    const finish = () => {
      if (finished) return;
      finished = true;
      live.delete(handle);
      release();
    };
    const afterStop = (): IteratorResult<unknown> => {
      if (farewell) {
        const value = farewell;
        farewell = undefined;
        return { done: false, value };
      }
      finish();
      return { done: true, value: undefined };
    };
    const handle = {
      end(result: ExecutionResultLike) {
        if (finished || stopping) return;
        stopping = true;
        farewell = result;
        wake();
        void Promise.resolve(it.return?.()).catch(() => {});
      },
    };
    live.add(handle);
    const iterator: AsyncIterableIterator<unknown> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next() {
        if (finished) return { done: true, value: undefined };
        if (stopping) return afterStop();
        const result = await new Promise<IteratorResult<unknown> | 'stopped'>((resolve, reject) => {
          interrupt = () => resolve('stopped');
          it.next().then(resolve, reject);
        }).then(
          (r) => {
            interrupt = undefined;
            return r;
          },
          (err: unknown) => {
            interrupt = undefined;
            finish();
            throw err;
          },
        );
        if (result === 'stopped') return afterStop();
        if (result.done) finish();
        return result;
      },
      async return(value?: unknown) {
        stopping = true;
        farewell = undefined;
        finish();
        wake();
        await Promise.resolve(it.return?.(value)).catch(() => {});
        return { done: true, value };
      },
      async throw(err?: unknown) {
        finish();
        if (it.throw) return it.throw(err);
        throw err;
      },
    };
    return iterator;
  };

  /** The stream of each request, until its response is known to stream it. */
  const pending = new WeakMap<Request, AsyncIterableIterator<unknown>>();

  const plugin: Plugin = {
    onSubscribe({ args, setResultAndStopExecution, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue as { request?: Request };
      const request = context.request;
      if (!request) return;
      const key = addressKey(request, context, options.trustProxy);
      const mine = byClient.get(key) ?? 0;
      if (mine >= options.perClient || open >= options.perProcess) {
        const message =
          mine >= options.perClient
            ? `Too many open streams from this client (at most ${options.perClient}); close one or retry later`
            : `Too many open streams on this server (at most ${options.perProcess}); retry later`;
        setResultAndStopExecution({
          errors: [
            new GraphQLError(message, {
              extensions: {
                code: 'TOO_MANY_STREAMS',
                http: { status: 429, headers: { 'retry-after': String(STREAMS_RETRY_AFTER_SECONDS) } },
              },
            }),
          ],
        });
        return;
      }
      // The slot is taken now (a burst cannot overtake the check) and given back when the stream ends,
      // or at once when the subscription does not start (an error result, a failure).
      const release = acquire(key);
      setSubscribeFn(async (subscribeArgs) => {
        try {
          return await subscribeFn(subscribeArgs);
        } catch (err) {
          release();
          throw err;
        }
      });
      return {
        onSubscribeResult({ result, setResult }) {
          if (!result || typeof result !== 'object' || !(Symbol.asyncIterator in result)) {
            release();
            return;
          }
          const stream = guard(result as AsyncIterable<unknown>, release);
          pending.set(request, stream);
          // The client went away (node:http closed the response): stop now, not at the next event.
          const signal = request.signal as AbortSignal | undefined;
          if (signal?.aborted) void stream.return?.();
          else signal?.addEventListener('abort', () => void stream.return?.(), { once: true });
          setResult(stream as never);
        },
      };
    },
    // A subscription answered otherwise than as a stream (406 to a client accepting only JSON) is never
    // read nor closed by Yoga: it ends here.
    onResponse({ request, response }) {
      const stream = pending.get(request);
      if (!stream) return;
      pending.delete(request);
      const type = response.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream') && !type.includes('multipart/mixed')) void stream.return?.();
    },
  };

  return {
    options,
    get open() {
      return open;
    },
    openBy: (key) => byClient.get(key) ?? 0,
    plugin,
    endAll(message = 'The server is shutting down; subscribe again', code = 'SERVICE_UNAVAILABLE') {
      for (const handle of [...live]) handle.end({ errors: [new GraphQLError(message, { extensions: { code } })] });
    },
  };
}
