import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';

/**
 * Domain events for subscriptions. In-process by default; through Redis when
 * REDIS_URL is set, so that a client connected to one server process hears a
 * publish made through another.
 */
export type EventMap = {
  /** An edition became published (payload: its id). */
  issuePublished: [{ issueId: number }];
  /** Anything of an edition changed (topic: its slug). */
  issueUpdated: [slug: string, payload: { issueId: number }];
};

export type Events = ReturnType<typeof createPubSub<EventMap>> & { close(): Promise<void> };

export function createEvents(redisUrl?: string): Events {
  if (!redisUrl) {
    const pubSub = createPubSub<EventMap>();
    return Object.assign(pubSub, { close: async () => {} });
  }
  const options = { maxRetriesPerRequest: 2, lazyConnect: false, enableOfflineQueue: true };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  // A Redis outage must not crash the process: log and let ioredis reconnect.
  for (const client of [publishClient, subscribeClient]) {
    client.on('error', (err: Error) => process.emitWarning(`Redis: ${err.message}`));
  }
  const pubSub = createPubSub<EventMap>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  return Object.assign(pubSub, {
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  });
}
