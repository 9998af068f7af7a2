import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logging.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', { destination: sink, pretty: false }) };
}

describe('log lines never carry credentials', () => {
  it('censors an authorization one level down (headers, any object) and two (req.headers)', () => {
    const { lines, logger } = capture();
    const headers = { authorization: 'Bearer secret-1', accept: 'application/json' };
    const req = { method: 'POST', headers: { authorization: 'Bearer secret-2', host: 'x' } };
    const client = { authorization: 'Basic c2VjcmV0LTM=', name: 'cli' };
    logger.info({ headers, req, client, status: 200 }, 'request');
    const line = lines.at(-1)!;
    expect(JSON.stringify(line)).not.toMatch(/secret|c2VjcmV0/);
    expect(line.headers).toEqual({ authorization: '[redacted]', accept: 'application/json' });
    expect(line.req).toEqual({ method: 'POST', headers: { authorization: '[redacted]', host: 'x' } });
    expect(line.client).toEqual({ authorization: '[redacted]', name: 'cli' });
    expect(line.status).toBe(200);
    // the caller's objects are left as they were
    expect(headers.authorization).toBe('Bearer secret-1');
    expect(req.headers.authorization).toBe('Bearer secret-2');
  });

  it('keeps an error an error: its message, type and stack are logged, its headers censored', () => {
    const { lines, logger } = capture();
    class UpstreamError extends Error {
      headers = { authorization: 'Bearer secret-4', 'retry-after': '5' };
    }
    const err = new UpstreamError('upstream refused');
    logger.error({ err }, 'webhook failed');
    const line = lines.at(-1)!;
    expect(JSON.stringify(line)).not.toContain('secret-4');
    expect(line.err).toMatchObject({
      type: 'UpstreamError',
      message: 'upstream refused',
      headers: { authorization: '[redacted]', 'retry-after': '5' },
    });
    expect((line.err as { stack?: string }).stack).toContain('upstream refused');
    expect(err.headers.authorization).toBe('Bearer secret-4');
  });

  it('leaves lines without credentials as they are', () => {
    const { lines, logger } = capture();
    logger.info({ requestId: 'r1', errorCodes: ['BAD'], graphql: { cost: 3 } }, 'graphql anonymous 200');
    expect(lines.at(-1)).toMatchObject({
      requestId: 'r1',
      errorCodes: ['BAD'],
      graphql: { cost: 3 },
      msg: 'graphql anonymous 200',
    });
  });
});
