import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { type ReplicaSet, isLsn, lsnValue } from '../../db/replicas.js';
import { type Context, usePrimary } from '../../graphql/context.js';

/** The header that carries a WAL position: sent after a write, echoed by clients on their next reads. */
export const READ_AFTER_HEADER = 'x-read-after';

/** Tokens whose last write is remembered (per process; beyond it, the oldest is forgotten). */
const MAX_REMEMBERED_TOKENS = 10_000;

/**
 * Read-your-writes over replicas. A query reads from a replica that has
 * replayed the newest of: the `x-read-after` position the client echoes, the
 * last write made with its token (kept in this process), and the last change
 * this process heard of (see ReplicaSet). A mutation or a subscription uses
 * the primary. After a write the response carries `x-read-after` with the
 * primary's WAL position just after the commit.
 */
export function readRouting(replicas: ReplicaSet, primary: Db) {
  const tokenWrites = new Map<string, bigint>();
  const written = new WeakMap<Request, string>();

  function readAfter(request: Request, viewer: Viewer): bigint | null {
    let position: bigint | null = null;
    const header = request.headers.get(READ_AFTER_HEADER);
    if (header && isLsn(header)) position = lsnValue(header);
    const own = viewer.tokenName ? tokenWrites.get(viewer.tokenName) : undefined;
    if (own !== undefined && (position === null || own > position)) position = own;
    return position;
  }

  async function noteWrite(request: Request, viewer: Viewer): Promise<void> {
    let lsn: string;
    try {
      lsn = await replicas.primaryLsn();
    } catch {
      // The write committed; without its position the client's next reads may come from a replica a little
      // behind (until the change is announced). The write's answer is not failed for it.
      return;
    }
    const value = lsnValue(lsn);
    written.set(request, lsn);
    await replicas.raiseFloor(value);
    if (viewer.tokenName) {
      tokenWrites.delete(viewer.tokenName);
      tokenWrites.set(viewer.tokenName, value);
      if (tokenWrites.size > MAX_REMEMBERED_TOKENS) tokenWrites.delete(tokenWrites.keys().next().value!);
    }
  }

  const plugin: Plugin<Context> = {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName)?.operation;
      if (operation !== 'query') usePrimary(args.contextValue as Context);
    },
    onSubscribe({ args }) {
      usePrimary(args.contextValue as Context);
    },
    onResponse({ request, response }) {
      const lsn = written.get(request);
      if (lsn) response.headers.set(READ_AFTER_HEADER, lsn);
    },
  };

  return {
    /** The database a request reads from before its operation is known, and its routing parts. */
    async forRequest(request: Request, viewer: Viewer) {
      const db = await replicas.reader(readAfter(request, viewer));
      return { db, routing: { primary, noteWrite: () => noteWrite(request, viewer) } };
    },
    plugin,
  };
}
