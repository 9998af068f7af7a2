import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { type Logger, defaultLogger } from './observability/logging.js';

/**
 * Domain events for subscriptions. In-process by default; through Redis when
 * REDIS_URL is set, so that a client connected to one server process hears a
 * publish made through another.
 *
 * While Redis is unavailable, events fall back to in-process delivery (as the
 * rate limits fall back to memory): a publish still reaches every subscriber
 * of the process that made it — subscribers of other processes miss it — and
 * the outage is reported once (`onStatus`), never swallowed. Once Redis
 * answers again, events go through it again (subscriptions are renewed on
 * reconnection).
 */
export type EventMap = {
  /** An edition became published (payload: its id). */
  issuePublished: [{ issueId: number }];
  /** Anything of an edition changed (topic: its slug). */
  issueUpdated: [slug: string, payload: { issueId: number }];
};

/** How events travel right now: in this process only (no Redis), through Redis, or in-process while Redis is down. */
export type EventsDelivery = 'in-process' | 'redis' | 'fallback';

export type Events = ReturnType<typeof createPubSub<EventMap>> & {
  close(): Promise<void>;
  /** How the next publish will be delivered. */
  delivery(): EventsDelivery;
};

export interface EventsOptions {
  /** Reports Redis going away (events in-process only from now on) and coming back; default: logged. */
  onStatus?: (status: { event: 'fallback'; error: Error } | { event: 'recovered' }) => void;
  /** Where the outages (by default) and dropped events are logged; warnings and errors to stdout when absent. */
  logger?: Logger;
}

/** What a subscriber of the pub/sub reads of an event (its `detail`); the pub/sub adds functions only. */
interface TopicEvent {
  type: string;
  detail: unknown;
}
type Listener = ((event: TopicEvent) => void) | { handleEvent(event: TopicEvent): void };

const call = (listener: Listener, event: TopicEvent) =>
  typeof listener === 'function' ? listener(event) : listener.handleEvent(event);

export function createEvents(redisUrl?: string, options: EventsOptions = {}): Events {
  if (!redisUrl) {
    const pubSub = createPubSub<EventMap>();
    return Object.assign(pubSub, { close: async () => {}, delivery: (): EventsDelivery => 'in-process' });
  }
  const logger = options.logger ?? defaultLogger();
  const onStatus =
    options.onStatus ??
    ((s) =>
      s.event === 'fallback'
        ? logger.warn(
            { err: s.error },
            'Redis is unavailable: subscription events are delivered to this process only until it is back.',
          )
        : logger.info('Redis is back: subscription events go through it again.'));

  // Publishing never waits for Redis: while it is down a publish fails at once and is delivered in-process.
  const publishClient = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
  });
  // The subscriber keeps its SUBSCRIBE commands until Redis is back (and renews every topic on reconnection).
  const subscribeClient = new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
  });

  /** Subscribers of this process, by topic (a topic is subscribed in Redis while it has any). */
  const listeners = new Map<string, Set<Listener>>();
  let degraded = false;
  const fallback = (error: Error) => {
    if (degraded) return;
    degraded = true;
    onStatus({ event: 'fallback', error });
  };
  const bothReady = () => publishClient.status === 'ready' && subscribeClient.status === 'ready';
  // Connection errors repeat at every reconnection attempt: reported once per outage.
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (err: Error) => fallback(err));
    client.on('ready', () => {
      if (bothReady() && degraded) {
        degraded = false;
        onStatus({ event: 'recovered' });
      }
    });
  }

  const subscribe = (topic: string) => {
    subscribeClient.subscribe(topic).catch((err: Error) => fallback(err));
  };
  // A SUBSCRIBE made during an outage (or lost with the connection) is sent again once it is back.
  subscribeClient.on('ready', () => {
    for (const topic of listeners.keys()) subscribe(topic);
  });

  const deliver = (topic: string, detail: unknown) => {
    const set = listeners.get(topic);
    if (!set) return;
    const event: TopicEvent = { type: topic, detail };
    for (const listener of [...set]) call(listener, event);
  };
  subscribeClient.on('message', (channel: string, message: string) => {
    if (!listeners.has(channel)) return;
    let detail: unknown;
    try {
      detail = message === '' ? null : JSON.parse(message);
    } catch (err) {
      logger.warn({ err, channel }, 'Redis: an event that is not JSON was dropped.');
      return;
    }
    deliver(channel, detail);
  });

  const target = {
    addEventListener(topic: string, listener: Listener | null) {
      if (!listener) return;
      let set = listeners.get(topic);
      if (!set) {
        set = new Set();
        listeners.set(topic, set);
        subscribe(topic);
      }
      set.add(listener);
    },
    removeEventListener(topic: string, listener: Listener | null) {
      const set = listeners.get(topic);
      if (!set || !listener) return;
      set.delete(listener);
      if (set.size > 0) return;
      listeners.delete(topic);
      // (queued while Redis is down; a failure only leaves a channel whose messages nobody here reads)
      subscribeClient.unsubscribe(topic).catch(() => {});
    },
    dispatchEvent(event: TopicEvent) {
      const topic = event.type;
      const detail = event.detail === undefined ? null : event.detail;
      // This process hears its own publish through Redis only while its subscriber is connected.
      const heardThroughRedis = subscribeClient.status === 'ready';
      if (!heardThroughRedis) deliver(topic, detail);
      const failed = (error: Error) => {
        fallback(error);
        if (heardThroughRedis) deliver(topic, detail);
      };
      if (publishClient.status !== 'ready') failed(new Error(`the connection is ${publishClient.status}`));
      else publishClient.publish(topic, event.detail === undefined ? '' : JSON.stringify(event.detail)).catch(failed);
      return true;
    },
  };

  const pubSub = createPubSub<EventMap>({
    eventTarget: target as unknown as NonNullable<Parameters<typeof createPubSub<EventMap>>[0]>['eventTarget'],
  });
  return Object.assign(pubSub, {
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
    delivery: (): EventsDelivery => (bothReady() ? 'redis' : 'fallback'),
  });
}
