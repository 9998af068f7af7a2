/**
 * PostgreSQL restarting under load, and down at boot, against a PRIVATE
 * PostgreSQL instance (never the machine's shared server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST, type ServerProcess, sleep, spawnServer, timedGql } from './helpers.js';
import { type PrivatePg, privatePgAvailable, startPrivatePg, waitFor } from './private-pg.js';

describe.skipIf(!privatePgAvailable)('PostgreSQL outages (private instance)', () => {
  let pgi: PrivatePg;
  beforeAll(async () => {
    pgi = await startPrivatePg();
  });
  afterAll(() => pgi?.destroy());

  // Quick failure and recovery are shown by order and counts, not by durations (a loaded machine may be
  // slow, never wrong): failures are answered while PostgreSQL is still down, and the server recovers by
  // itself. The durations are printed.
  it('restart under load: same PID, SERVICE_UNAVAILABLE during the outage (answered before it ends), then recovery', async () => {
    const url = await pgi.createDatabase('restart_load');
    const server = await spawnServer({ DATABASE_URL: url, DB_POOL_MAX: '5' });
    try {
      await server.ready();
      const results: Array<{ t: number; r: Awaited<ReturnType<typeof timedGql>> }> = [];
      let stoppedAt = 0;
      let restartedAt = 0;
      // Bounded: at most MAX requests, ~10 in flight, until 4 s after PostgreSQL is back.
      const MAX = 800;
      let sent = 0;
      const startedAt = Date.now();
      const worker = async () => {
        while (sent < MAX && !(restartedAt && Date.now() > restartedAt + 4_000)) {
          sent++;
          const t = Date.now();
          const r = await timedGql(server.url, LATEST);
          results.push({ t, r });
          await sleep(150);
        }
      };
      const load = Promise.all(Array.from({ length: 10 }, worker));
      const chaos = (async () => {
        await sleep(1_000);
        stoppedAt = Date.now();
        pgi.stop('fast');
        await sleep(3_000);
        pgi.start();
        restartedAt = Date.now();
      })();
      await Promise.all([load, chaos]);
      expect(server.child.exitCode).toBeNull();
      expect(server.child.pid).toBe(server.pid);

      const failures = results.filter(({ r }) => r.status !== 200 || r.body?.errors);
      const during = results.filter(({ t }) => t >= stoppedAt && t < restartedAt);
      // answered (not only sent) while PostgreSQL was down: a request waiting for it would be answered after
      const answeredDuring = during.filter(({ t, r }) => t + r.ms < restartedAt);
      const firstOkAfter = results
        .filter(({ t, r }) => t >= restartedAt && r.status === 200 && !r.body?.errors)
        .sort((a, b) => a.t - b.t)[0];
      const recoveryMs = firstOkAfter ? firstOkAfter.t + firstOkAfter.r.ms - restartedAt : Infinity;
      const maxFailMs = Math.max(0, ...failures.map(({ r }) => r.ms));
      const codes = [...new Set(failures.map(({ r }) => r.code ?? r.networkError ?? `status ${r.status}`))];
      console.info(
        `[restart] ${results.length} requests in ${Date.now() - startedAt} ms; ${failures.length} failed (codes ${codes.join(', ')}), ` +
          `slowest failure ${maxFailMs.toFixed(0)} ms; ${during.length} sent during the outage; recovery ${recoveryMs.toFixed(0)} ms after PostgreSQL was back`,
      );
      expect(results.length).toBeLessThanOrEqual(MAX);
      expect(failures.length).toBeGreaterThan(0); // the outage was seen
      for (const { r } of failures) {
        expect(r.code).toBe('SERVICE_UNAVAILABLE');
        expect(r.status).toBe(503);
      }
      // Requests sent during the outage were answered during it, but for those still in flight when it
      // ended (one per worker at most): none waited for PostgreSQL.
      expect(answeredDuring.length).toBeGreaterThan(0);
      expect(answeredDuring.length).toBeGreaterThanOrEqual(during.length - 10);
      // And it recovers by itself, fully working (waited for with patience: a liveness guard, not a bound).
      await waitFor(
        async () => (await timedGql(server.url, LATEST)).body?.data?.latestIssue?.sections.length === 5,
        60_000,
        'the server serves again',
      );
    } finally {
      server.kill('SIGTERM');
      const exit = await server.exited;
      expect(exit.code).toBe(0);
    }
  });

  it('down at boot: /healthz 200, /readyz 503 (empty), GraphQL 503 SERVICE_UNAVAILABLE; ready by itself once PostgreSQL starts', async () => {
    const url = await pgi.createDatabase('down_at_boot');
    pgi.stop('fast');
    const server = await spawnServer({ DATABASE_URL: url });
    try {
      await sleep(500);
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe('ok\n');
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe('');
      // answered while PostgreSQL is down (it starts only below): no waiting for it
      const q = await timedGql(server.url, LATEST);
      expect(q.status).toBe(503);
      expect(q.code).toBe('SERVICE_UNAVAILABLE');

      pgi.start();
      const startedAt = Date.now();
      const readyMs = await waitFor(
        async () => (await fetch(`${server.url}/readyz`)).status === 200,
        15_000,
        '/readyz 200',
      );
      console.info(`[boot] ready ${readyMs} ms after PostgreSQL started (${Date.now() - startedAt} ms)`);
      const ok = await timedGql(server.url, LATEST);
      expect(ok.status).toBe(200);
      expect(ok.body?.data?.latestIssue?.sections).toHaveLength(5);
      expect(server.child.exitCode).toBeNull();
    } finally {
      if (!pgi.running()) pgi.start();
      server.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
  });
});
