import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { GraphQLError, getOperationAST } from 'graphql';
import { type Plugin, isAsyncIterable, mapAsyncIterator } from 'graphql-yoga';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Where the lines go (tests pass a stream to read them); stdout when absent. */
  destination?: DestinationStream;
  /** Human-readable lines (pino-pretty). Default: NODE_ENV !== 'production' and stdout is a TTY. */
  pretty?: boolean;
}

/**
 * The server's logger: JSON lines (one object per line, `time` in epoch ms),
 * or pino-pretty's coloured lines in development on a terminal.
 */
export function createLogger(level: LogLevel = 'info', options: CreateLoggerOptions = {}): Logger {
  const base: LoggerOptions = {
    level,
    base: { pid: process.pid },
    // Never log credentials, even if someone logs a request's headers. Not pino's `redact`: it costs 2 µs a
    // line (3.4 against 1.4 µs here, Node 24; a line a request) for the two places credentials could be.
    formatters: { log: censorCredentials },
  };
  const wantPretty =
    options.pretty ?? (process.env.NODE_ENV !== 'production' && process.stdout.isTTY === true && !options.destination);
  if (wantPretty) {
    // Loaded only here (development on a terminal): production never needs it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(
      base,
      pretty({
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        destination: options.destination ?? 1,
        sync: true,
      }),
    );
  }
  return pino(base, options.destination ?? pino.destination({ dest: process.stdout.fd ?? 1, ...STDOUT_BUFFER }));
}

/**
 * Lines to stdout are gathered into writes of 4 KB, and written at least every 100 ms (an idle server then makes
 * an empty write every 100 ms). A write per line was a hop to libuv's thread pool per request: ~8 % of a one-paper
 * read's server CPU (BENCHMARKS.md). pino flushes what is left when the process exits.
 */
export const STDOUT_BUFFER = { minLength: 4096, periodicFlush: 100 } as const;

const CENSORED = '[redacted]';

/**
 * A copy of `value` with `key` replaced, of the same prototype: an Error stays one, with its message and stack (own,
 * not enumerable), for pino's error serializer, which runs after this formatter.
 */
function copyWith(value: object, key: string, replacement: unknown): object {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(value) as object | null) as object, value, {
    [key]: replacement,
  });
  return value instanceof Error ? Object.assign(copy, { message: value.message, stack: value.stack }) : copy;
}

/** `headers` without its credentials (a copy), or itself when it has none. */
function withoutAuthorization(headers: object): object {
  return Object.hasOwn(headers, 'authorization') ? copyWith(headers, 'authorization', CENSORED) : headers;
}

/**
 * Never log credentials, even if someone logs a request's headers: an `authorization` one level down (`headers`,
 * any object logged) or two (`req.headers`) is censored.
 */
export function censorCredentials(line: Record<string, unknown>): Record<string, unknown> {
  let out = line;
  for (const key in line) {
    const value = line[key];
    if (value === null || typeof value !== 'object') continue;
    let censored = withoutAuthorization(value);
    const headers = (censored as { headers?: unknown }).headers;
    if (headers !== null && typeof headers === 'object') {
      const clean = withoutAuthorization(headers);
      if (clean !== headers) censored = copyWith(censored, 'headers', clean);
    }
    if (censored !== value) {
      if (out === line) out = { ...line };
      out[key] = censored;
    }
  }
  return out;
}

/**
 * The server's announcements of its own life (listening, ready, draining, closed, failed to start): at `info`
 * whatever LOG_LEVEL says, since operators and scripts wait for them (the URL once the API is ready).
 */
export function lifecycleLogger(logger: Logger): Logger {
  return logger.child({}, { level: 'info' });
}

let fallback: Logger | undefined;

/** For parts the server gives its logger to, when used without one (tests, embedding): warnings and errors only. */
export function defaultLogger(): Logger {
  fallback ??= createLogger('warn');
  return fallback;
}

/** An incoming `x-request-id` is kept when it is a sane token; otherwise a new one is made. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function requestIdOf(request: Request): string {
  return requestIdFrom(request.headers.get('x-request-id'));
}

/** `requestIdOf` from the header's value (node:http's headers, before Yoga). */
export function requestIdFrom(incoming: string | string[] | null | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

interface RequestLog {
  requestId: string;
  start: number;
  operationName?: string | undefined;
  operationType?: string | undefined;
  cost?: number | undefined;
  errorCodes: string[];
  /** Served from the result cache (inside Yoga). */
  cached: boolean;
  graphql: boolean;
  path: string;
}

const requestLogs = new WeakMap<Request, RequestLog>();

function errorCodesOf(errors: readonly unknown[] | undefined): string[] {
  if (!errors) return [];
  return errors.map((e) => {
    const code = (
      e instanceof GraphQLError ? e.extensions : (e as { extensions?: Record<string, unknown> })?.extensions
    )?.code;
    return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
  });
}

/** Errors masked as "Unexpected error.", with what was thrown (which clients never see). */
const maskedErrors = new WeakMap<object, unknown>();

/**
 * Called by the app's `maskError` for each error it masks as unexpected:
 * `loggingPlugin` logs the original with the request it failed.
 */
export function recordMaskedError(masked: object, original: unknown): void {
  maskedErrors.set(masked, original);
}

/** The error a resolver threw, inside the GraphQLErrors that carry it. */
function thrownError(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 8 && current instanceof GraphQLError && current.originalError; i++)
    current = current.originalError;
  return current;
}

/** A name that reads like a class (not pg's 'error' message type, nor a minified 'O'). */
const CLASS_NAME = /^[A-Z][A-Za-z0-9_$]+$/;

/**
 * The class of an error: its `name`, or its constructor's name when `name`
 * says nothing more than 'Error' (DrizzleQueryError leaves it so) or is not a
 * class name (pg's DatabaseError: 'error').
 */
function errorClassOf(error: unknown): string {
  if (!error || typeof error !== 'object') return typeof error;
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && name !== 'Error' && CLASS_NAME.test(name)) return name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof ctor === 'string' && ctor !== 'Error' && ctor !== 'Object' && CLASS_NAME.test(ctor)) return ctor;
  return 'Error';
}

/** What an error wraps (`cause`), e.g. the driver's error inside Drizzle's: class, message and code. */
function causesOf(error: unknown): Array<Record<string, unknown>> {
  const causes: Array<Record<string, unknown>> = [];
  let current = (error as { cause?: unknown } | null)?.cause;
  for (let i = 0; i < 4 && current !== undefined && current !== null; i++) {
    const e = current as { message?: unknown; code?: unknown; cause?: unknown };
    causes.push({
      errorClass: errorClassOf(current),
      message: typeof e.message === 'string' ? e.message : String(current),
      ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    });
    current = typeof current === 'object' ? e.cause : undefined;
  }
  return causes;
}

interface MaskedContext {
  requestId: string;
  operationName: string | undefined;
  operationType: string | undefined;
}

/**
 * Logs the masked errors among `errors`, each once (it is forgotten once
 * logged): one error line per thrown error, with the paths it failed (a
 * failing loader fails every field that waited on it).
 */
function logMaskedErrors(logger: Logger, errors: readonly unknown[] | undefined, where: MaskedContext): void {
  if (!errors?.length) return;
  let byThrown: Map<unknown, string[]> | undefined;
  for (const error of errors) {
    if (!error || typeof error !== 'object' || !maskedErrors.has(error)) continue;
    const thrown = thrownError(maskedErrors.get(error));
    maskedErrors.delete(error);
    byThrown ??= new Map();
    const paths = byThrown.get(thrown) ?? [];
    const path = (error as { path?: ReadonlyArray<string | number> }).path;
    if (path?.length) paths.push(path.join('.'));
    byThrown.set(thrown, paths);
  }
  if (!byThrown) return;
  for (const [thrown, paths] of byThrown) {
    const errorClass = errorClassOf(thrown);
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    const causes = causesOf(thrown);
    logger.error(
      {
        requestId: where.requestId,
        operationName: where.operationName ?? null,
        ...(where.operationType ? { operationType: where.operationType } : {}),
        paths,
        errorClass,
        errorMessage: message,
        stack: thrown instanceof Error ? thrown.stack : undefined,
        ...(causes.length ? { causes } : {}),
      },
      `unexpected error (masked) in ${where.operationName ?? 'anonymous'}: ${errorClass}`,
    );
  }
}

/**
 * One log line per HTTP request handled by Yoga, with a request id (taken from
 * a sane `x-request-id`, else generated, and echoed in the `x-request-id`
 * response header) and, for GraphQL, the operation name and type, the duration
 * in ms, the cost (`extensions.cost.requested` set by the limits plugin), the
 * HTTP status and the error codes. Place it FIRST in the plugin list so that
 * requests ended early by other plugins (429, 413, /metrics) are timed too.
 *
 * Every error masked as "Unexpected error." (recorded by `recordMaskedError`)
 * gets a line of its own at error level, with the request id, the operation,
 * and the class, message, stack and causes of what was thrown — in streamed
 * results too, as each event is sent.
 */
export function loggingPlugin(logger: Logger): Plugin {
  return {
    onRequest({ request, url }) {
      requestLogs.set(request, {
        requestId: requestIdOf(request),
        start: performance.now(),
        errorCodes: [],
        cached: false,
        graphql: url.pathname === '/graphql',
        path: url.pathname,
      });
    },
    onParams({ request, params }) {
      const log = requestLogs.get(request);
      if (log) {
        log.graphql = true;
        log.operationName ??= params.operationName ?? undefined;
      }
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const log = request ? requestLogs.get(request) : undefined;
      if (!log) return;
      const operation = getOperationAST(args.document, args.operationName);
      log.operationName = operation?.name?.value ?? args.operationName ?? log.operationName;
      log.operationType = operation?.operation;
    },
    onSubscribe({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const log = request ? requestLogs.get(request) : undefined;
      if (!log) return;
      const operation = getOperationAST(args.document, args.operationName);
      log.operationName = operation?.name?.value ?? args.operationName ?? log.operationName;
      log.operationType = operation?.operation;
    },
    onResultProcess({ request, result, setResult }) {
      const log = requestLogs.get(request);
      if (!log) return;
      const where: MaskedContext = {
        requestId: log.requestId,
        operationName: log.operationName,
        operationType: log.operationType,
      };
      if (isAsyncIterable(result)) {
        // a stream's events are sent after its response (and its line) has begun: each is looked at as it goes out
        setResult(
          mapAsyncIterator(result, (event) => {
            logMaskedErrors(logger, event?.errors, where);
            return event;
          }),
        );
        return;
      }
      const results = Array.isArray(result) ? result : [result];
      for (const r of results) {
        if (!r || typeof r !== 'object' || Symbol.asyncIterator in r) continue;
        if ((r as Record<symbol, unknown>)[Symbol.for('servedFromResponseCache')]) log.cached = true;
        const { errors, extensions } = r as {
          errors?: readonly unknown[];
          extensions?: { cost?: { requested?: unknown } };
        };
        log.errorCodes.push(...errorCodesOf(errors));
        logMaskedErrors(logger, errors, where);
        const requested = extensions?.cost?.requested;
        if (typeof requested === 'number') log.cost = requested;
      }
    },
    onResponse({ request, response }) {
      const log = requestLogs.get(request);
      if (!log) return;
      requestLogs.delete(request);
      if (!response.headers.has('x-request-id')) response.headers.set('x-request-id', log.requestId);
      logRequest(logger, {
        requestId: log.requestId,
        method: request.method,
        path: log.path,
        status: response.status,
        durationMs: Math.round((performance.now() - log.start) * 100) / 100,
        graphql: log.graphql
          ? {
              operationName: log.operationName ?? null,
              operationType: log.operationType ?? null,
              cost: log.cost ?? null,
              errorCodes: log.errorCodes,
              cache: log.cached ? 'result' : undefined,
              streaming: (response.headers.get('content-type') ?? '').includes('text/event-stream'),
            }
          : undefined,
      });
    },
  };
}

/** One request as logged (by `loggingPlugin`, or by the server for what the response tier answers). */
export interface RequestLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** For GraphQL requests. */
  graphql?:
    | {
        operationName: string | null;
        operationType: string | null;
        cost: number | null;
        errorCodes: readonly string[];
        /** Answered by the response cache: its result tier (inside Yoga) or its response tier (before it). */
        cache?: 'result' | 'response' | undefined;
        streaming?: boolean;
      }
    | undefined;
}

/** Writes the line of one request (level by status and errors). */
export function logRequest(logger: Logger, request: RequestLine): void {
  const { graphql, status } = request;
  const line: Record<string, unknown> = {
    requestId: request.requestId,
    method: request.method,
    path: request.path,
    status,
    durationMs: request.durationMs,
  };
  if (graphql) {
    line.operationName = graphql.operationName;
    if (graphql.operationType) line.operationType = graphql.operationType;
    line.cost = graphql.cost;
    line.errorCodes = [...new Set(graphql.errorCodes)];
    if (graphql.cache) line.cache = graphql.cache;
    if (graphql.streaming) line.streaming = true;
  }
  const level = status >= 500 ? 'error' : status >= 400 || (graphql?.errorCodes.length ?? 0) > 0 ? 'warn' : 'info';
  logger[level](
    line,
    graphql
      ? `graphql ${graphql.operationName ?? 'anonymous'} ${status}`
      : `${request.method} ${request.path} ${status}`,
  );
}
