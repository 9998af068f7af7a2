import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';

/**
 * Draining a node:http server on SIGTERM without resetting a request:
 *
 * - it stops accepting connections, but does not close idle keep-alive
 *   connections (node's `server.close()` does): a client may have sent a
 *   request on one that the server has not read yet, and closing it would
 *   reset that request;
 * - every request already received is answered, and every response not yet
 *   started — and every request arriving on an open connection meanwhile —
 *   carries `Connection: close`, so node closes each connection after its
 *   answer and clients open no new request on it;
 * - idle connections close by themselves after node's keep-alive timeout
 *   (which clients are told, `Keep-Alive: timeout=5`, so they stop reusing a
 *   connection before); whatever is still idle at `idleDeadline` is closed.
 */
export interface Drain {
  /** Tracks a request (call first thing): in flight until its response closes; marked `Connection: close` while draining. */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Follows the server's connections (call once, after createServer). */
  attach(server: Server): void;
  /** Stops accepting connections and marks every response not yet started `Connection: close`. */
  start(): void;
  readonly draining: boolean;
  /** Requests in flight. */
  readonly inFlight: number;
  /** Open connections. */
  readonly connections: number;
  /** Responses in flight whose headers are sent (streams, or a body still being written). */
  started(): ServerResponse[];
  /**
   * Resolves once no request is in flight and every connection is closed.
   * From `idleDeadline` (epoch ms) on, connections without a request in flight are closed;
   * requests in flight are waited for (bound them with a hard stop).
   */
  settled(idleDeadline: number): Promise<void>;
}

export function createDrain(): Drain {
  const inFlight = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let draining = false;
  let check: (() => void) | undefined;

  const closeAfter = (res: ServerResponse) => {
    if (res.headersSent) return;
    res.shouldKeepAlive = false;
    res.setHeader('connection', 'close');
  };

  return {
    track(_req, res) {
      inFlight.add(res);
      res.once('close', () => {
        inFlight.delete(res);
        check?.();
      });
      if (draining) closeAfter(res);
    },
    attach(s) {
      server = s;
      s.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => {
          sockets.delete(socket);
          check?.();
        });
      });
    },
    start() {
      if (draining) return;
      draining = true;
      // net.Server's close: no new connections, the open ones untouched (http.Server#close would also
      // drop every idle keep-alive connection, with any request a client has just sent on it).
      if (server?.listening) net.Server.prototype.close.call(server);
      for (const res of inFlight) closeAfter(res);
    },
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight.size;
    },
    get connections() {
      return sockets.size;
    },
    started: () => [...inFlight].filter((res) => res.headersSent),
    settled(idleDeadline) {
      return new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          check = undefined;
          clearTimeout(timer);
          resolve();
        };
        check = () => {
          if (inFlight.size === 0 && sockets.size === 0) done();
        };
        const tick = () => {
          if (Date.now() >= idleDeadline) server?.closeIdleConnections();
          check?.();
          if (check) timer = setTimeout(tick, Math.max(50, Math.min(500, idleDeadline - Date.now())));
        };
        tick();
      });
    },
  };
}
