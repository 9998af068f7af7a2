import { type ChildProcess, spawn } from 'node:child_process';
import {
  type AnyDocument,
  type GraphQLResponse,
  type ResultOfDocument,
  type VariablesOfDocument,
  documentText,
} from '../helpers/http.js';
import { repoRoot } from '../helpers/server.js';
import { graphql } from '../graphql.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves once the server logs that the GraphQL API is ready. */
  ready(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts src/server.ts and resolves as soon as it LISTENS (before the
 * database is ready: /healthz answers then). Rejects if it exits first.
 */
export async function spawnServer(env: Record<string, string | undefined>): Promise<ServerProcess> {
  // What `npm start` runs: one process, no wrapper (the `tsx` binary's relays
  // SIGTERM to its child and SIGKILLs it when the child does not acknowledge
  // within ~60 ms, and a kill -9 of it leaves the real server running).
  // Signals must reach the server.
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: repoRoot,
    // Rate limits off: these tests send hundreds of requests from one address on purpose.
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_POINTS: '1000000000',
      RATE_LIMIT_IN_FLIGHT: '100000',
      // the database must be reached: cached answers would hide the outage
      RESPONSE_CACHE: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const waitForOutput = (re: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${re} in time:\n${out}`)), timeoutMs);
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(m);
        }
      };
      listeners.add(check);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`server exited:\n${out}`));
      });
      check();
    });
  let m: RegExpExecArray;
  try {
    m = await waitForOutput(/Listening on port (\d+)/, 60_000);
  } catch (err) {
    // not left running (holding its data directory's lock) when it never said it listens
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url: `http://127.0.0.1:${m[1]}`,
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    ready: async (timeoutMs = 60_000) => {
      await waitForOutput(/GraphQL API on http:\/\/localhost:\d+\/graphql/, timeoutMs);
    },
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

export interface Timed<T = unknown> {
  status: number;
  ms: number;
  /** The JSON answer; null when the answer was not JSON (then see `text`) or there was none. */
  body: GraphQLResponse<T>['body'] | null;
  text: string;
  code: string | undefined;
  networkError?: string;
}

/**
 * POSTs one GraphQL operation and times it; network failures are reported, not thrown.
 * With a document from tests/graphql.ts, `body.data` has its result type.
 */
export async function timedGql<D extends AnyDocument>(
  url: string,
  document: D,
  variables?: VariablesOfDocument<D>,
  headers?: Record<string, string>,
  timeoutMs?: number,
): Promise<Timed<ResultOfDocument<D>>>;
export async function timedGql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
  timeoutMs?: number,
): Promise<Timed>;
export async function timedGql(
  url: string,
  document: string | AnyDocument,
  variables?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Timed> {
  const start = performance.now();
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query: documentText(document), variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: Timed['body'] = null;
    try {
      body = JSON.parse(text) as Timed['body'];
    } catch {
      // not JSON: the text is kept
    }
    const code = body?.errors?.[0]?.extensions?.code;
    return {
      status: res.status,
      ms: performance.now() - start,
      body,
      text,
      code: typeof code === 'string' ? code : undefined,
    };
  } catch (err) {
    return {
      status: 0,
      ms: performance.now() - start,
      body: null,
      text: '',
      code: undefined,
      networkError: String(err),
    };
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const LATEST = graphql(
  `{ latestIssue { title sections { number category { name } papers { number title } } } }`,
);
