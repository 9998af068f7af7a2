/**
 * `npm run test:scale`: the topology of docs/deploy.md on real engines —
 * HAProxy → two API processes → PgBouncer (transaction pooling) → a
 * PostgreSQL primary, a streaming replica for reads, a private Redis — under
 * a bounded mixed load (4 editors writing and reading back, 16 anonymous
 * readers: 20 connections, all to 127.0.0.1), through four failures in turn:
 * kill -9 of one API process, the replica stopped then started, PgBouncer
 * restarted. It checks that an editor who echoes `x-read-after` never reads
 * stale data, that every acknowledged write is on the primary at the end, and
 * the detection and recovery bounds; the figures go to the console (and to
 * BENCHMARKS.md with SCALE_REPORT=1).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { createDb } from '../../src/db/client.js';
import { seedSample } from '../../src/fixtures/seed.js';
import { machineLine, writeSection } from '../../bench/report.js';
import { type RunningServer, startServer } from '../helpers/server.js';
import {
  type Haproxy,
  type Pgbouncer,
  type PrivatePg,
  type PrivateRedis,
  type Replica,
  startHaproxy,
  startPgbouncer,
  startPrivatePg,
  startRedis,
  startReplica,
  topologyAvailable,
  waitFor,
} from './topology.js';
import { freePort } from '../faults/private-pg.js';

const LOAD_MS = Number(process.env.SCALE_LOAD_MS ?? 36_000);
const HEALTH_INTERVAL_MS = 500;
const REPLICA_POLL_MS = 200;

interface Sample {
  start: number;
  end: number;
  kind: 'write' | 'read-echo' | 'read-plain' | 'read';
  ok: boolean;
  code?: string;
}

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
});

// biome-ignore lint/suspicious/noExplicitAny: the load reads whatever the server sent, checked field by field
type Body = { data?: Record<string, any> | null; errors?: Array<{ extensions?: { code?: string } }> };

async function post(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: Body;
  readAfter: string | null;
}> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  let body: Body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ extensions: { code: `HTTP_${res.status}` } }] };
  }
  return { status: res.status, body, readAfter: res.headers.get('x-read-after') };
}

const PAPER = 'query($id: ID!) { node(id: $id) { ... on Paper { title version } } }';
const UPDATE = `mutation($input: UpdatePaperInput!) { updatePaper(input: $input) {
  __typename ... on UpdatePaperPayload { paper { version title } } } }`;
const READS = [
  '{ issues(first: 5) { nodes { title sections { category { name } papers { number title } } } } }',
  '{ latestIssue { title sections { papers { number title } } } }',
  '{ categories { name papers(first: 5) { nodes { title } } } }',
];

async function metric(server: string, name: string): Promise<number[]> {
  const res = await fetch(`${server}/metrics`, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => Number(l.split(' ').at(-1)));
}

describe.runIf(topologyAvailable)('scale-out topology (npm run test:scale)', () => {
  it('keeps reads fresh for echoing clients, loses no acknowledged write, and recovers from each failure', async () => {
    // ------------------------------------------------------------ the engines
    const primary: PrivatePg = await startPrivatePg({ wal_level: 'replica', max_wal_senders: '5' });
    cleanups.push(() => primary.destroy());
    const appUrl = await primary.createDatabase('app');
    {
      // What the pool would send as startup options: PgBouncer drops those, so they are the database's own.
      const c = await primary.admin();
      await c.query(
        "ALTER DATABASE app SET statement_timeout = '5s'; ALTER DATABASE app SET lock_timeout = '2s'; ALTER DATABASE app SET idle_in_transaction_session_timeout = '10s'; ALTER DATABASE app SET jit = off",
      );
      await c.end();
    }
    // Migrations run once, before the API processes (a deploy step), then the sample edition and the editors.
    const setup = await createDb({ url: appUrl });
    await setup.migrate();
    await seedSample(setup.db);
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      tokens.push(
        (await createToken(setup.db, { name: `editor-${i}-${randomBytes(2).toString('hex')}`, scope: 'editor' })).token,
      );
    }
    await setup.close();
    const replica: Replica = await startReplica(primary);
    cleanups.push(() => replica.destroy());
    const bouncer: Pgbouncer = await startPgbouncer(primary.port);
    cleanups.push(() => bouncer.destroy());
    const redis: PrivateRedis = await startRedis();
    cleanups.push(() => redis.destroy());

    const ports = { a: await freePort(30000), b: await freePort(31000) };
    const env = (port: number) => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: bouncer.url('app'),
      DATABASE_LISTEN_URL: primary.url('app'),
      DATABASE_REPLICA_URLS: replica.url('app'),
      DB_PREPARED_STATEMENTS: 'off',
      DB_CONNECT_TIMEOUT_MS: '1000',
      REDIS_URL: redis.url,
      REDIS_NAMESPACE: 'scale',
      REPLICA_POLL_MS: String(REPLICA_POLL_MS),
      REPLICA_MAX_LAG_MS: '1000',
      RATE_LIMIT_POINTS: '1000000000',
      RATE_LIMIT_IN_FLIGHT: '1000',
      SEED_SAMPLE: 'false',
      WEBHOOKS: 'off',
      LOG_LEVEL: 'error',
    });
    const servers: Record<'a' | 'b', RunningServer> = {
      a: await startServer(env(ports.a)),
      b: await startServer(env(ports.b)),
    };
    cleanups.push(
      () => servers.a.stop('SIGKILL'),
      () => servers.b.stop('SIGKILL'),
    );
    const lb: Haproxy = await startHaproxy(ports, HEALTH_INTERVAL_MS);
    cleanups.push(() => lb.destroy());
    await waitFor(async () => Object.values(await lb.status()).every((s) => s.startsWith('UP')), 15_000, 'both UP');
    await waitFor(
      async () =>
        (await Promise.all([servers.a.url, servers.b.url].map((u) => metric(u, 'db_replica_in_rotation')))).every(
          (v) => v[0] === 1,
        ),
      15_000,
      'the replica in rotation',
    );

    // ------------------------------------------------------------ the load
    const samples: Sample[] = [];
    const t0 = Date.now();
    let running = true;
    const stale = { echo: 0, plain: 0, plainChecks: 0, echoChecks: 0 };
    const papers = (
      await post(lb.url, '{ latestIssue { sections { papers { id version } } } }', {}, {})
    ).body.data!.latestIssue.sections.flatMap((s: { papers: Array<{ id: string; version: number }> }) => s.papers);
    /** The last acknowledged write of each paper: [title, version]. */
    const acknowledged = new Map<string, { title: string; version: number }>();
    let acks = 0;

    async function timed<T>(kind: Sample['kind'], fn: () => Promise<{ ok: boolean; code?: string; value?: T }>) {
      const start = Date.now();
      try {
        const r = await fn();
        samples.push({ start, end: Date.now(), kind, ok: r.ok, ...(r.code ? { code: r.code } : {}) });
        return r;
      } catch (err) {
        samples.push({ start, end: Date.now(), kind, ok: false, code: (err as Error).name });
        return { ok: false as const };
      }
    }

    async function editor(i: number) {
      const auth = { authorization: `Bearer ${tokens[i]}` };
      const mine = papers.filter((_: unknown, k: number) => k % 4 === i);
      let n = 0;
      const versions = new Map<string, number>(mine.map((p: { id: string; version: number }) => [p.id, p.version]));
      while (running) {
        const paper = mine[n % mine.length]!;
        const title = `Editor ${i} edit ${++n}`;
        const write = await timed('write', async () => {
          const r = await post(
            lb.url,
            UPDATE,
            { input: { id: paper.id, version: versions.get(paper.id), title } },
            auth,
          );
          const result = r.body.data?.updatePaper;
          if (result?.__typename === 'UpdatePaperPayload') {
            versions.set(paper.id, result.paper.version);
            acknowledged.set(paper.id, { title, version: result.paper.version });
            acks++;
            return { ok: true, value: r.readAfter };
          }
          return { ok: false, code: r.body.errors?.[0]?.extensions?.code ?? result?.__typename ?? `HTTP_${r.status}` };
        });
        if (!write.ok) {
          // The write may have committed without an answer: read the version again before the next one.
          const again = await post(lb.url, PAPER, { id: paper.id }, auth).catch(() => null);
          const v = again?.body.data?.node?.version;
          if (typeof v === 'number') versions.set(paper.id, v);
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        const readAfter = write.value as string | null;
        await timed('read-echo', async () => {
          const r = await post(
            lb.url,
            PAPER,
            { id: paper.id },
            { ...auth, ...(readAfter ? { 'x-read-after': readAfter } : {}) },
          );
          const node = r.body.data?.node;
          if (!node) return { ok: false, code: r.body.errors?.[0]?.extensions?.code ?? `HTTP_${r.status}` };
          stale.echoChecks++;
          if (node.title !== title) stale.echo++;
          return { ok: true };
        });
        await timed('read-plain', async () => {
          const r = await post(lb.url, PAPER, { id: paper.id });
          const node = r.body.data?.node;
          if (!node) return { ok: false, code: r.body.errors?.[0]?.extensions?.code ?? `HTTP_${r.status}` };
          stale.plainChecks++;
          if (node.title !== title && acknowledged.get(paper.id)?.title === title) stale.plain++;
          return { ok: true };
        });
      }
    }

    async function reader(i: number) {
      let n = i;
      while (running) {
        await timed('read', async () => {
          const r = await post(lb.url, READS[n++ % READS.length]!, {});
          return r.body.data && !r.body.errors
            ? { ok: true }
            : { ok: false, code: r.body.errors?.[0]?.extensions?.code ?? `HTTP_${r.status}` };
        });
      }
    }

    // Transactions each server committed in the first steady phase (PostgreSQL's own counters): who served the reads.
    const commits = async (url: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query<{ n: string }>(
          "SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = 'app'",
        );
        return Number(rows[0]!.n);
      } finally {
        await c.end();
      }
    };
    const commitsBefore = { primary: await commits(primary.url('app')), replica: await commits(replica.url('app')) };
    const load = Promise.all([...[0, 1, 2, 3].map(editor), ...Array.from({ length: 16 }, (_, i) => reader(i))]);
    const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - Date.now())));
    type EventName =
      | 'killA'
      | 'aDown'
      | 'aUp'
      | 'replicaStop'
      | 'replicaOut'
      | 'replicaStart'
      | 'replicaIn'
      | 'bouncerStop'
      | 'bouncerStart'
      | 'bouncerRecovered';
    const events: Partial<Record<EventName, number>> = {};

    // 1. kill -9 one API process; the balancer takes it out; it comes back.
    await at(LOAD_MS * 0.15);
    // Counters are flushed by idle backends about once a second: let them.
    await new Promise((r) => setTimeout(r, 1_100));
    const steadyCommits = {
      primary: (await commits(primary.url('app'))) - commitsBefore.primary,
      replica: (await commits(replica.url('app'))) - commitsBefore.replica,
    };
    events.killA = Date.now();
    await servers.a.stop('SIGKILL');
    await waitFor(async () => !(await lb.status()).a?.startsWith('UP'), 10_000, 'a DOWN at the balancer');
    events.aDown = Date.now();
    servers.a = await startServer(env(ports.a));
    await waitFor(async () => (await lb.status()).a?.startsWith('UP') ?? false, 20_000, 'a UP again');
    events.aUp = Date.now();

    // 2. The replica stops: reads move to the primary; it starts again: back into rotation.
    await at(LOAD_MS * 0.45);
    events.replicaStop = Date.now();
    replica.stop();
    await waitFor(
      async () =>
        (await Promise.all([servers.a.url, servers.b.url].map((u) => metric(u, 'db_replica_in_rotation')))).every(
          (v) => v[0] === 0,
        ),
      10_000,
      'the replica out of rotation',
    );
    events.replicaOut = Date.now();
    await at(LOAD_MS * 0.6);
    events.replicaStart = Date.now();
    replica.start();
    await waitFor(
      async () =>
        (await Promise.all([servers.a.url, servers.b.url].map((u) => metric(u, 'db_replica_in_rotation')))).every(
          (v) => v[0] === 1,
        ),
      20_000,
      'the replica back in rotation',
    );
    events.replicaIn = Date.now();

    // 3. PgBouncer restarts (1 s down): writes fail fast with SERVICE_UNAVAILABLE, then work again.
    await at(LOAD_MS * 0.75);
    events.bouncerStop = Date.now();
    await bouncer.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    events.bouncerStart = Date.now();
    await bouncer.start();
    await waitFor(
      () => samples.some((s) => s.kind === 'write' && s.ok && s.start >= events.bouncerStart!),
      10_000,
      'a write after PgBouncer restarted',
    );
    events.bouncerRecovered = samples.find((s) => s.kind === 'write' && s.ok && s.start >= events.bouncerStart!)!.end;

    await at(LOAD_MS);
    running = false;
    await load;
    const tEnd = Date.now();

    // ------------------------------------------------------------ checks
    // Every acknowledged write is on the primary (a later unacknowledged one may have replaced it).
    const check = await createDb({ url: appUrl });
    const { rows } = await check.pool!.query<{ id: number; title: string; version: number }>(
      'SELECT id, title, version FROM papers',
    );
    await check.close();
    const stored = new Map(rows.map((r) => [Buffer.from(`Paper:${r.id}`).toString('base64url'), r]));
    let lost = 0;
    for (const [id, ack] of acknowledged) {
      const row = stored.get(id);
      if (!row || row.version < ack.version || (row.version === ack.version && row.title !== ack.title)) lost++;
    }

    const phase = (from: number, to: number) => samples.filter((s) => s.start >= from && s.start < to);
    // Requests wholly inside a phase (one in flight when a failure began belongs to the failure).
    const within = (from: number, to: number) => phase(from, to).filter((s) => s.end < to);
    // A ConflictError is the API's typed answer to a stale version: an editor's write that committed while its
    // answer was lost (PgBouncer killed mid-commit) makes its next write stale. Counted apart, not as a failure.
    const failed = (s: Sample) => !s.ok && s.code !== 'ConflictError';
    const count = (list: Sample[]) => ({
      requests: list.length,
      errors: list.filter(failed).length,
      conflicts: list.filter((s) => s.code === 'ConflictError').length,
      codes: [...new Set(list.filter(failed).map((s) => s.code))].join(' ') || '—',
    });
    const ev = events as Record<EventName, number>;
    const phases: Array<[string, number, number]> = [
      ['steady (both APIs, replica, PgBouncer)', t0, ev.killA],
      ['API a killed, until the balancer marks it down', ev.killA, ev.aDown],
      ['a down at the balancer, until it is back', ev.aDown, ev.aUp],
      ['steady', ev.aUp, ev.replicaStop],
      ['replica stopped, until out of rotation', ev.replicaStop, ev.replicaOut],
      ['replica out of rotation (reads on the primary)', ev.replicaOut, ev.replicaStart],
      ['replica started, until back in rotation', ev.replicaStart, ev.replicaIn],
      ['steady', ev.replicaIn, ev.bouncerStop],
      ['PgBouncer down (1 s) and restarting', ev.bouncerStop, ev.bouncerRecovered],
      ['after PgBouncer recovered', ev.bouncerRecovered, tEnd],
    ];
    const gapWrites = phase(ev.bouncerStop, ev.bouncerStart).filter((s) => s.kind === 'write' && !s.ok);
    const report = {
      loadSeconds: (tEnd - t0) / 1000,
      requests: samples.length,
      phases: phases.map(([name, from, to]) => ({
        name,
        ms: to - from,
        ...count(phase(from, to)),
        errorsWithin: count(within(from, to)).errors,
      })),
      steadyTransactions: steadyCommits,
      staleEchoing: `${stale.echo} of ${stale.echoChecks}`,
      staleNotEchoing: `${stale.plain} of ${stale.plainChecks}`,
      acknowledgedWrites: acks,
      papersChecked: acknowledged.size,
      lostAcknowledged: lost,
      apiDownDetectedMs: ev.aDown - ev.killA,
      apiBackMs: ev.aUp - ev.aDown,
      replicaOutMs: ev.replicaOut - ev.replicaStop,
      replicaInMs: ev.replicaIn - ev.replicaStart,
      pgbouncerRecoveryMs: ev.bouncerRecovered - ev.bouncerStart,
      pgbouncerGapWriteFailures: gapWrites.length,
      pgbouncerGapSlowestFailureMs: Math.max(0, ...gapWrites.map((s) => s.end - s.start)),
      pgbouncerGapCodes: [...new Set(gapWrites.map((s) => s.code))].join(' '),
    };

    const gapReadsAll = phase(ev.bouncerStop, ev.bouncerStart).filter((s) => s.kind === 'read');
    (report as Record<string, unknown>).pgbouncerGapAnonymousReads =
      `${gapReadsAll.filter((s) => s.ok).length} of ${gapReadsAll.length} answered`;
    console.log(JSON.stringify(report, null, 2));
    if (process.env.SCALE_REPORT === '1') writeReport(report);
    expect(stale.echoChecks).toBeGreaterThan(50);
    expect(stale.echo).toBe(0);
    expect(lost).toBe(0);
    expect(report.apiDownDetectedMs).toBeLessThan(2 * HEALTH_INTERVAL_MS + 2_000);
    // Outside the moments each failure is being detected, no request fails.
    for (const i of [0, 2, 3, 5, 7, 9]) expect(report.phases[i]!.errorsWithin, report.phases[i]!.name).toBe(0);
    expect(report.replicaOutMs).toBeLessThan(3_000);
    expect(report.pgbouncerRecoveryMs).toBeLessThan(2_000);
    // Writes fail fast with the API's own SERVICE_UNAVAILABLE (reads go on from the replica: the processes stay ready).
    expect(
      gapWrites.every((s) => s.code === 'SERVICE_UNAVAILABLE'),
      report.pgbouncerGapCodes,
    ).toBe(true);
    expect(gapReadsAll.filter((s) => !s.ok)).toHaveLength(0);
    expect(report.pgbouncerGapSlowestFailureMs).toBeLessThan(2_500);
  }, 300_000);
});

function writeReport(report: Record<string, unknown> & { phases: Array<Record<string, unknown>> }): void {
  const rows = report.phases
    .map(
      (p) =>
        `| ${p.name} | ${((p.ms as number) / 1000).toFixed(1)} | ${p.requests} | ${p.errors} | ${p.errorsWithin} | ${p.codes} | ${p.conflicts} |`,
    )
    .join('\n');
  const section = `## Scale-out topology under failures (\`npm run test:scale\`)

HAProxy (health checks on \`/readyz\` every ${HEALTH_INTERVAL_MS} ms, fall 2, rise 2) → two API processes (\`src/server.ts\`,
\`DB_PREPARED_STATEMENTS=off\`, replica polled every ${REPLICA_POLL_MS} ms, \`REPLICA_MAX_LAG_MS=1000\`) → PgBouncer 1.18
(transaction pooling) → PostgreSQL 15 primary; one streaming replica for reads; a private Redis. Load: 4 editors
(write a paper, read it back echoing \`x-read-after\`, read it anonymously) and 16 anonymous readers, 20 connections,
${report.loadSeconds} s, ${report.requests} requests.

| phase | s | requests | errors | of which wholly inside the phase | error codes | stale-version conflicts |
| --- | ---: | ---: | ---: | ---: | --- | ---: |
${rows}

- Transactions committed in the first steady phase (PostgreSQL's counters, approximate): primary ${(report.steadyTransactions as { primary: number }).primary} (writes, token checks, reads that could not wait for the replica), replica ${(report.steadyTransactions as { replica: number }).replica}.
- Stale reads: echoing \`x-read-after\` **${report.staleEchoing}**; anonymous, not echoing: ${report.staleNotEchoing}.
- Acknowledged writes: ${report.acknowledgedWrites}; the last acknowledged version of each of the ${report.papersChecked} papers checked on the primary: **${report.lostAcknowledged} lost**.
- kill -9 of an API process: out of the balancer in ${report.apiDownDetectedMs} ms; restarted and back in ${report.apiBackMs} ms.
- Replica stopped: out of rotation on both processes in ${report.replicaOutMs} ms; started again: back in ${report.replicaInMs} ms.
- PgBouncer restarted (down 1 s): ${report.pgbouncerGapWriteFailures} writes failed during the gap (${report.pgbouncerGapCodes || 'none'}, slowest ${report.pgbouncerGapSlowestFailureMs} ms), anonymous reads ${report.pgbouncerGapAnonymousReads} (from the replica); the first write after its start succeeded ${report.pgbouncerRecoveryMs} ms later.

Machine: ${machineLine()}.`;
  writeSection('scale', section);
}
