import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS } from './limits.js';

/**
 * The request body limit at the node:http level, before anything reads a
 * body (the response tier, Yoga):
 *
 * - a Content-Length over the limit is refused at once;
 * - a chunked body (no Content-Length) is read here, its bytes counted as
 *   they arrive, and refused as soon as it goes over; one within the limit is
 *   handed on in memory (`req.body`, which the fetch adapter takes as the body).
 *
 * A refusal is a 413 `PAYLOAD_TOO_LARGE` with `Connection: close`, sent at
 * once; the connection then stays open while the rest of the body is read
 * and thrown away — up to `discardBytes` or `discardMs` — so that a client
 * that writes its whole body before reading (most do) reads the 413 instead
 * of a reset. Closing a socket with unread bytes makes the kernel reset the
 * connection, and a reset discards what the client had not read yet.
 */
export interface BodyLimitOptions {
  /** Largest body accepted (default LIMITS.maxBodyBytes). */
  maxBytes?: number;
  /** Bytes of a refused body read and thrown away before the connection is closed anyway (default 8 MiB). */
  discardBytes?: number;
  /** Time given to a refused body before the connection is closed anyway (default 5 s). */
  discardMs?: number;
  /** Told about each refusal (after the 413 is written). */
  onRefused?: (req: IncomingMessage, received: number) => void;
}

export const DISCARD_BYTES = 8 * 1024 * 1024;
export const DISCARD_MS = 5_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export function limitRequestBodies(
  next: Handler,
  options: BodyLimitOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBytes = options.maxBytes ?? LIMITS.maxBodyBytes;
  const discardBytes = options.discardBytes ?? DISCARD_BYTES;
  const discardMs = options.discardMs ?? DISCARD_MS;
  const payload = JSON.stringify({
    errors: [
      { message: `The request body is larger than ${maxBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } },
    ],
  });

  const refuse = (req: IncomingMessage, res: ServerResponse, received: number) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.shouldKeepAlive = false;
    res.writeHead(413, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'no-store',
      connection: 'close',
    });
    // The whole answer goes out now; the response ends (and node closes the connection) once the body is read.
    res.write(payload);
    let discarded = received;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      res.end();
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > discardBytes) finish();
    };
    const timer = setTimeout(finish, discardMs);
    timer.unref();
    req.on('data', onData);
    req.once('end', finish);
    req.once('error', finish);
    res.once('close', finish);
    req.resume();
    options.onRefused?.(req, received);
  };

  return (req, res) => {
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked) {
      const length = Number(req.headers['content-length'] ?? '0');
      if (length > maxBytes) refuse(req, res, 0);
      else void next(req, res);
      return;
    }
    // Chunked: counted here, before anything else reads it.
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        chunks.length = 0;
        refuse(req, res, size);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      (req as IncomingMessage & { body?: Buffer }).body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      void next(req, res);
    };
    // a client that goes away mid-body: nothing to answer (the socket is gone)
    req.once('error', () => {});
    req.on('data', onData);
    req.once('end', onEnd);
  };
}
