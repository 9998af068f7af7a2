/**
 * SIGTERM under keep-alive load: the drain answers every request the server
 * received (with Connection: close), resets none, and a request sent on an
 * idle keep-alive connection after the signal is answered too.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, sleep, spawnServer } from './helpers.js';

const CLIENTS = 10;
const BODY = JSON.stringify({ query: '{ latestIssue { title sections { number papers { number title } } } }' });

interface Outcome {
  client: number;
  n: number;
  sentAt: number;
  status: number;
  connection: string | undefined;
  /** Network error code: ECONNREFUSED (the request never reached the server) or a reset. */
  error?: string;
}

/** One keep-alive connection at a time, sending request after request until the server refuses connections. */
async function keepAliveClient(port: number, client: number, out: Outcome[], stop: { now: boolean }): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let n = 0; !stop.now; n++) {
      const sentAt = Date.now();
      const outcome = await new Promise<Outcome>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/graphql',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(BODY),
              'x-request-id': `c${client}-${n}`,
            },
          },
          (res) => {
            res.resume();
            res.once('end', () =>
              resolve({ client, n, sentAt, status: res.statusCode ?? 0, connection: res.headers.connection }),
            );
            res.once('error', (err: NodeJS.ErrnoException) =>
              resolve({ client, n, sentAt, status: 0, connection: undefined, error: err.code ?? err.message }),
            );
          },
        );
        req.once('error', (err: NodeJS.ErrnoException) =>
          resolve({ client, n, sentAt, status: 0, connection: undefined, error: err.code ?? err.message }),
        );
        req.end(BODY);
      });
      out.push(outcome);
      if (outcome.error === 'ECONNREFUSED') return; // the server no longer accepts connections: done
      if (outcome.error) await sleep(20);
    }
  } finally {
    agent.destroy();
  }
}

/** A raw HTTP/1.1 exchange on an open socket: resolves with the whole answer (or what came before the socket ended). */
function exchange(socket: net.Socket, request: string): Promise<{ text: string; error?: string }> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, head));
      if (head >= 0 && length && text.length >= head + 4 + Number(length[1])) finish();
    };
    let finished = false;
    const finish = (error?: string) => {
      if (finished) return;
      finished = true;
      socket.off('data', onData);
      resolve({ text, error });
    };
    if (socket.destroyed || !socket.writable) {
      resolve({ text, error: 'closed by the server before the request' });
      return;
    }
    socket.on('data', onData);
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code));
    socket.once('end', () => finish(text ? undefined : 'EOF'));
    socket.once('close', () => finish(text ? undefined : 'closed'));
    socket.write(request);
  });
}

const rawPost = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;

describe('SIGTERM drain under keep-alive load (PGlite)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'faults-drain-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('an open stream ends with a last SERVICE_UNAVAILABLE event, a new stream is refused (503), exit 0', async () => {
    const server: ServerProcess = await spawnServer({
      DATABASE_URL: undefined,
      DATA_DIR: dataDir,
      SEED_SAMPLE: 'true',
    });
    await server.ready();
    const port = Number(new URL(server.url).port);
    const sub = JSON.stringify({ query: 'subscription { issuePublished { slug } }' });
    const sseRequest = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(sub)}\r\n\r\n${sub}`;
    // the stream, on a connection of its own
    const stream = net.connect(port, '127.0.0.1');
    let streamed = '';
    let streamError: string | undefined;
    stream.on('data', (d: Buffer) => (streamed += d.toString('latin1')));
    stream.on('error', (err: NodeJS.ErrnoException) => (streamError = err.code));
    const streamClosed = new Promise((r) => stream.once('close', r));
    stream.write(sseRequest);
    // an idle keep-alive connection, used after the signal
    const idle = net.connect(port, '127.0.0.1');
    await new Promise((r) => idle.once('connect', r));
    expect((await exchange(idle, rawPost)).text).toMatch(/^HTTP\/1\.1 200/);
    for (let i = 0; i < 100 && !streamed.includes('\r\n\r\n'); i++) await sleep(20);
    expect(streamed).toMatch(/^HTTP\/1\.1 200/);
    const signalled = Date.now();
    server.kill('SIGTERM');
    await sleep(300);
    const refused = await exchange(idle, sseRequest);
    await streamClosed;
    const exit = await server.exited;
    idle.destroy();
    console.info(
      `[drain stream] new stream after SIGTERM: ${refused.text.split('\r\n')[0]}; stream ended ${Date.now() - signalled} ms after SIGTERM; exit ${exit.code} after ${exit.at - signalled} ms`,
    );
    expect(refused.text).toMatch(/^HTTP\/1\.1 503/);
    expect(refused.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(refused.text).toContain('SERVICE_UNAVAILABLE');
    // the open stream: a last event naming the reason, then complete, then the chunked body's end
    expect(streamError).toBeUndefined();
    expect(streamed).toMatch(/event: next\r?\n?[\s\S]*"code":"SERVICE_UNAVAILABLE"/);
    expect(streamed).toMatch(/event: complete/);
    expect(streamed).toMatch(/\r\n0\r\n\r\n$/);
    // exits by itself (no bound on how long: a hang is caught by the test's timeout; the time is printed)
    expect(exit.code).toBe(0);
  });

  for (const round of [1, 2, 3]) {
    it(`round ${round}: ${CLIENTS} keep-alive clients sending continuously: no request reset, all received answered, exit 0`, async () => {
      const server: ServerProcess = await spawnServer({
        DATABASE_URL: undefined,
        DATA_DIR: dataDir,
        SEED_SAMPLE: 'true',
      });
      await server.ready();
      const port = Number(new URL(server.url).port);
      const out: Outcome[] = [];
      const stop = { now: false };
      // An idle keep-alive connection (one request before the signal, the next one after it).
      const idle = net.connect(port, '127.0.0.1');
      await new Promise((r) => idle.once('connect', r));
      const first = await exchange(idle, rawPost);
      expect(first.text).toMatch(/^HTTP\/1\.1 200/);
      const clients = Array.from({ length: CLIENTS }, (_, i) => keepAliveClient(port, i, out, stop));
      await sleep(1_500 + round * 137);
      const signalled = Date.now();
      server.kill('SIGTERM');
      await sleep(300);
      const late = await exchange(idle, rawPost);
      const exit = await server.exited;
      stop.now = true;
      await Promise.all(clients);
      idle.destroy();

      const before = out.filter((o) => o.sentAt < signalled);
      const after = out.filter((o) => o.sentAt >= signalled);
      const answered = out.filter((o) => o.status > 0);
      const refused = out.filter((o) => o.error === 'ECONNREFUSED');
      const resets = out.filter((o) => o.error && o.error !== 'ECONNREFUSED');
      const answeredAfter = after.filter((o) => o.status > 0);
      console.info(
        `[drain round ${round}] ${out.length} requests: ${before.length} before SIGTERM, ${after.length} after; ` +
          `${answered.length} answered (${answeredAfter.length} sent after SIGTERM, ${answeredAfter.filter((o) => o.connection === 'close').length} with Connection: close), ` +
          `${refused.length} refused connections, ${resets.length} resets [${resets.map((o) => `${o.error}@${o.sentAt - signalled}ms`).join(', ')}]; ` +
          `idle connection after SIGTERM: ${late.text.split('\r\n')[0] || late.error}; exit ${exit.code} after ${exit.at - signalled} ms`,
      );
      expect(resets).toEqual([]);
      expect(exit.code).toBe(0);
      // every request that got through was answered, and only with 200s
      expect(answered.every((o) => o.status === 200)).toBe(true);
      expect(answered.length + refused.length).toBe(out.length);
      // each client was told to close its connection once the drain began
      for (let c = 0; c < CLIENTS; c++) {
        const last = out.filter((o) => o.client === c && o.status > 0).at(-1);
        expect(last?.connection, `client ${c}`).toBe('close');
      }
      // a request on an idle keep-alive connection after the signal is answered, not reset
      expect(late.error).toBeUndefined();
      expect(late.text).toMatch(/^HTTP\/1\.1 200/);
      expect(late.text).toMatch(/\r\nconnection: close\r\n/i);
    });
  }
});
