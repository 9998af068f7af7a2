/** Classifying database failures, masking them for clients, and /healthz + /readyz (no PostgreSQL needed). */
import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkReady, isDatabaseUnavailable, isTimeout } from '../src/db/availability.js';
import { createDb, type DbHandle } from '../src/db/client.js';
import { maskError } from '../src/http/pipeline/errors.js';
import { healthRoutes } from '../src/http/routes/health.js';
import type { GraphQLErrorBody } from './helpers/http.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code, severity: 'FATAL' });
/** What Drizzle throws: DrizzleQueryError with the driver error as `cause`. */
const drizzled = (cause: unknown) => Object.assign(new Error('Failed query: select 1\nparams: '), { cause });

describe('isDatabaseUnavailable / isTimeout', () => {
  it.each([
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['57P01 admin shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash shutdown', pgError('57P02')],
    ['57P03 cannot connect now', pgError('57P03', 'the database system is starting up')],
    ['08006 connection failure', pgError('08006')],
    ['53300 too many connections', pgError('53300', 'sorry, too many clients already')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
    ['connection terminated', new Error('Connection terminated unexpectedly')],
    [
      'AggregateError of ECONNREFUSED (::1 and 127.0.0.1)',
      new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], ''),
    ],
  ])('%s is "unavailable", also wrapped by Drizzle and GraphQL', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(isDatabaseUnavailable(drizzled(err))).toBe(true);
    expect(isDatabaseUnavailable(new GraphQLError('wrapped', { originalError: drizzled(err) }))).toBe(true);
    expect(isTimeout(err)).toBe(false);
  });

  it.each([
    ['57014 statement timeout', pgError('57014', 'canceling statement due to statement timeout')],
    ['55P03 lock timeout', pgError('55P03', 'canceling statement due to lock timeout')],
  ])('%s is a timeout, not "unavailable"', (_, err) => {
    expect(isTimeout(drizzled(err))).toBe(true);
    expect(isDatabaseUnavailable(drizzled(err))).toBe(false);
  });

  it.each([
    ['unique violation', pgError('23505')],
    ['syntax error', pgError('42601')],
    ['a plain bug', new TypeError('x is undefined')],
    ['null', null],
  ])('%s is neither', (_, err) => {
    expect(isDatabaseUnavailable(drizzled(err))).toBe(false);
    expect(isTimeout(drizzled(err))).toBe(false);
  });
});

describe('maskError', () => {
  it('database unavailable → SERVICE_UNAVAILABLE, HTTP 503, Retry-After', () => {
    const e = maskError(
      new GraphQLError('boom', { originalError: drizzled(pgError('57P01')), path: ['latestIssue'] }),
      'Unexpected error.',
    ) as GraphQLError;
    expect(e.message).toBe('The database is unavailable; retry shortly');
    expect(e.extensions).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      http: { status: 503, headers: { 'Retry-After': '5' } },
    });
    expect(e.path).toEqual(['latestIssue']);
  });

  it('timeouts → TIMEOUT, HTTP 503', () => {
    const e = maskError(drizzled(pgError('57014')), 'Unexpected error.') as GraphQLError;
    expect(e.extensions.code).toBe('TIMEOUT');
    expect((e.extensions.http as { status: number }).status).toBe(503);
  });

  it('anything else → "Unexpected error." with INTERNAL_SERVER_ERROR and no details', () => {
    const e = maskError(
      new GraphQLError('x', { originalError: new Error('relation "secret_table" does not exist') }),
      'Unexpected error.',
      false,
    ) as GraphQLError;
    expect(e.message).toBe('Unexpected error.');
    expect(e.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(e.toJSON())).not.toContain('secret_table');
  });

  it('errors raised on purpose pass unchanged', () => {
    const mine = new GraphQLError('first must be 1–100', { extensions: { code: 'BAD_USER_INPUT' } });
    expect(maskError(mine, 'Unexpected error.')).toBe(mine);
  });
});

describe('/healthz and /readyz, and the masking through Yoga', () => {
  let handle: DbHandle;
  let ready = false;
  let failWith: Error = new Error('secret internals');
  let yoga: ReturnType<typeof createYoga>;
  beforeAll(async () => {
    handle = await createDb();
    yoga = createYoga({
      schema: createSchema({
        typeDefs: 'type Query { x: Int }',
        resolvers: {
          Query: {
            x: () => {
              throw failWith;
            },
          },
        },
      }),
      maskedErrors: { maskError },
      logging: false,
      plugins: [healthRoutes(() => ({ ready }), handle.db)],
    });
  });
  afterAll(() => handle.close());

  it('liveness is 200 "ok"; readiness 503 with an empty body until ready, then 200', async () => {
    const live = await yoga.fetch('http://localhost/healthz');
    expect(live.status).toBe(200);
    expect(await live.text()).toBe('ok\n');
    const notReady = await yoga.fetch('http://localhost/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('');
    ready = true;
    const isReady = await yoga.fetch('http://localhost/readyz');
    expect(isReady.status).toBe(200);
    expect(await checkReady(handle.db)).toBe(true);
  });

  it('readiness is 503 when the database does not answer', async () => {
    const closed = await createDb({ url: 'postgres://nobody@127.0.0.1:1/none', connectTimeoutMs: 500 });
    const y = createYoga({
      schema: createSchema({ typeDefs: 'type Query { x: Int }' }),
      logging: false,
      plugins: [healthRoutes(() => ({ ready: true }), closed.db)],
    });
    const res = await y.fetch('http://localhost/readyz');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('');
    await closed.close();
  });

  it('a database outage in a resolver is a 503 SERVICE_UNAVAILABLE with Retry-After; a bug is masked', async () => {
    failWith = drizzled(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const res = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ x }' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { errors: GraphQLErrorBody[] };
    expect(body.errors[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(body)).not.toContain('5432');

    failWith = new Error('secret internals');
    const bug = (await (
      await yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ x }' }),
      })
    ).json()) as { errors: GraphQLErrorBody[] };
    expect(bug.errors[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(bug)).not.toContain('secret');
  });
});
