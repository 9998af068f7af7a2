import type { Db } from '../db/client.js';
import { type ClaimedDelivery, claimDueDeliveries, recordAttempt } from '../db/queries/webhooks.js';
import type { Logger } from '../observability/logging.js';
import { type DeliverOptions, deliver } from './deliver.js';
import { type AttemptResult, decide } from './policy.js';

export interface WebhookWorkerOptions extends DeliverOptions {
  db: Db;
  logger: Logger;
  /** How often it looks for due deliveries when nothing woke it (WEBHOOK_POLL_MS). */
  pollMs: number;
  /** Endpoints posted to at once by this process (each endpoint gets one delivery at a time anyway). */
  concurrency: number;
  /** Multiplies the retry delays (WEBHOOK_RETRY_SCALE; 1 in production, small in tests). */
  retryScale: number;
  /** An endpoint whose every delivery failed for this long is disabled (WEBHOOK_DISABLE_AFTER_HOURS). */
  disableAfterMs: number;
}

export interface WebhookWorker {
  /** Looks for due deliveries now (after a write, instead of waiting for the next poll). */
  wake(): void;
  /** Takes no more deliveries and waits for those being posted (at most their timeout). */
  stop(): Promise<void>;
}

/**
 * A claimed row is leased for twice the post's timeout and a second (21 s by default): longer than a live
 * worker can hold it, so only a worker that died loses its rows — taken again when the lease ends.
 */
const leaseFor = (timeoutMs: number) => 2 * timeoutMs + 1_000;
/** After the database failed the worker, it waits this long before asking again. */
const ERROR_PAUSE_MS = 5_000;

function describe(result: AttemptResult): { error: string | null; statusCode: number | null } {
  if (result.kind === 'response') {
    const ok = result.status >= 200 && result.status < 300;
    const redirect = result.status >= 300 && result.status < 400 ? ' (redirects are not followed)' : '';
    return { error: ok ? null : `HTTP ${result.status}${redirect}`, statusCode: result.status };
  }
  return { error: result.message, statusCode: null };
}

/**
 * The delivery loop of a server process: claims due deliveries (each
 * endpoint's oldest pending one, so that an endpoint receives its events in
 * order, one at a time), posts them, and records each outcome — delivered,
 * retried later (policy.ts), or failed. Several processes on one PostgreSQL
 * share the work: a row is claimed by one of them only (SKIP LOCKED, then a
 * lease). A process killed mid-post leaves its rows leased; they are taken
 * again when the lease ends, so an event is delivered at least once.
 */
export function startWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { db, logger } = options;
  const leaseMs = leaseFor(options.timeoutMs);
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let woken = false;

  async function attempt(claimed: ClaimedDelivery): Promise<void> {
    const report = await deliver(claimed, options);
    const decision = decide(report.result, claimed.attempts, { scale: options.retryScale });
    const { error, statusCode } = describe(report.result);
    const where = {
      webhookId: claimed.webhookId,
      deliveryId: claimed.id,
      event: claimed.event,
      attempt: claimed.attempts,
    };
    if (decision.result === 'delivered') logger.debug(where, 'webhook delivered');
    else logger.warn({ ...where, error, willRetry: decision.result === 'retry' }, 'webhook delivery failed');
    const { disabled } = await recordAttempt(
      db,
      claimed,
      {
        result: decision.result,
        nextAttemptAt: decision.result === 'retry' ? new Date(Date.now() + decision.delayMs) : undefined,
        error,
        statusCode,
        response: report.response,
      },
      options.disableAfterMs,
    );
    if (disabled) logger.warn(where, 'webhook disabled: every delivery failed for too long');
  }

  function track(claimed: ClaimedDelivery): void {
    const p = attempt(claimed)
      .catch((err) => logger.error({ err, deliveryId: claimed.id }, 'recording a webhook delivery failed'))
      .finally(() => {
        inFlight.delete(p);
        wake();
      });
    inFlight.add(p);
  }

  function wake(): void {
    woken = true;
    wakeUp?.();
  }

  function pause(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  const loop = (async () => {
    while (!stopped) {
      const room = options.concurrency - inFlight.size;
      if (room <= 0) {
        await pause(options.pollMs);
        continue;
      }
      let claimed: ClaimedDelivery[];
      try {
        claimed = await claimDueDeliveries(db, room, leaseMs);
      } catch (err) {
        if (!stopped) logger.warn({ err }, 'looking for due webhook deliveries failed; trying again shortly');
        await pause(ERROR_PAUSE_MS);
        continue;
      }
      if (stopped) break;
      for (const c of claimed) track(c);
      if (claimed.length === 0) await pause(options.pollMs);
    }
  })();

  return {
    wake,
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
