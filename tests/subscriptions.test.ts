import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { createToken } from '../src/auth/tokens.js';
import { createDb } from '../src/db/client.js';
import { seedSample } from '../src/fixtures/seed.js';
import { createPubSub } from 'graphql-yoga';
import type { EventMap, Events } from '../src/events.js';
import { authHeader } from './helpers/auth.js';
import { type TestDb, createTestDb, createThrowawayDatabase } from './helpers/db.js';
import { documentText, gql } from './helpers/http.js';
import { type ResultOf, type VariablesOf, graphql } from './graphql.js';
import { startServer } from './helpers/server.js';
import { sseReader, subscriptionRequest } from './helpers/sse.js';

let tdb: TestDb;
let app: App;
let editor: Record<string, string>;

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  app = createApp({ db: tdb.db });
  editor = await authHeader(tdb.db);
});
afterAll(async () => {
  await tdb?.destroy();
});

const settle = () => new Promise((r) => setTimeout(r, 100));

const CREATE = graphql(
  `mutation($slug: String!) { createIssue(input: { slug: $slug, title: "Week", weekStart: "2025-06-02" }) { __typename ... on CreateIssuePayload { issue { id } } } }`,
);
const PUBLISH = graphql(`mutation($id: ID!) { publishIssue(input: { id: $id }) { __typename } }`);
const RENAME = graphql(
  `mutation($id: ID!, $v: Int!, $t: String!) { updateIssue(input: { id: $id, version: $v, title: $t }) { __typename } }`,
);
const ISSUE_PUBLISHED = graphql(`subscription { issuePublished { slug status } }`);
const ISSUE_PUBLISHED_SLUG = graphql(`subscription { issuePublished { slug } }`);
const WATCHED_UPDATED = graphql(`subscription { issueUpdated(slug: "watched") { title } }`);

/** The id of the edition a createIssue answer made (the test fails on an error payload). */
function createdId(payload: ResultOf<typeof CREATE>['createIssue'] | undefined): string {
  if (payload?.__typename !== 'CreateIssuePayload') throw new Error(`createIssue answered ${JSON.stringify(payload)}`);
  return payload.issue.id;
}

/** Creates a draft edition through the app and returns its id. */
const createIssue = async (slug: string) =>
  createdId((await gql(app, CREATE, { slug }, editor)).body.data?.createIssue);

describe('subscriptions over Server-Sent Events (in-process events)', () => {
  it('issuePublished streams the edition when it is published', async () => {
    const res = await app.fetch('http://localhost/graphql', subscriptionRequest(ISSUE_PUBLISHED));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const stream = sseReader(res, ISSUE_PUBLISHED);
    try {
      // start reading first: the subscription begins when the stream is consumed
      const pending = stream.next();
      await settle();
      const id = await createIssue('sse-week');
      await gql(app, PUBLISH, { id }, editor);
      const event = await pending;
      expect(event).toEqual({ data: { issuePublished: { slug: 'sse-week', status: 'PUBLISHED' } } });
    } finally {
      await stream.close();
    }
  });

  it('issueUpdated(slug): readers hear about published editions only, editors about drafts too', async () => {
    const id = await createIssue('watched');
    const anon = sseReader(
      await app.fetch('http://localhost/graphql', subscriptionRequest(WATCHED_UPDATED)),
      WATCHED_UPDATED,
    );
    const ed = sseReader(
      await app.fetch('http://localhost/graphql', subscriptionRequest(WATCHED_UPDATED, {}, editor)),
      WATCHED_UPDATED,
    );
    try {
      const anonFirst = anon.next();
      const edFirst = ed.next();
      await settle();
      const rename = (title: string, version: number) => gql(app, RENAME, { id, v: version, t: title }, editor);
      await rename('Draft title', 1);
      expect(await edFirst).toEqual({ data: { issueUpdated: { title: 'Draft title' } } });
      await gql(app, PUBLISH, { id }, editor);
      // the reader's first event comes from the publish: the draft change was never sent to them
      const first = await anonFirst;
      expect(first).toEqual({ data: { issueUpdated: { title: 'Draft title' } } });
      expect(await ed.next()).toEqual({ data: { issueUpdated: { title: 'Draft title' } } }); // the publish
      await rename('Public title', 3);
      expect(await anon.next()).toEqual({ data: { issueUpdated: { title: 'Public title' } } });
    } finally {
      await anon.close();
      await ed.close();
    }
  });

  it('a subscriber that goes away stops listening at once, without waiting for an event', async () => {
    // An in-process bus whose event target counts the listeners the pub/sub holds.
    const target = new EventTarget();
    let listening = 0;
    const counting = {
      addEventListener: (type: string, listener: EventListener) => {
        listening++;
        target.addEventListener(type, listener);
      },
      removeEventListener: (type: string, listener: EventListener) => {
        listening--;
        target.removeEventListener(type, listener);
      },
      dispatchEvent: (event: Event) => target.dispatchEvent(event),
    };
    const events: Events = Object.assign(createPubSub<EventMap>({ eventTarget: counting as never }), {
      close: async () => {},
      delivery: () => 'in-process' as const,
    });
    const counted = createApp({ db: tdb.db, events });
    const controllers = [new AbortController(), new AbortController()];
    const readers: Array<ReturnType<typeof sseReader>> = [];
    for (const [i, q] of [ISSUE_PUBLISHED_SLUG, WATCHED_UPDATED].entries()) {
      const res = await counted.fetch('http://localhost/graphql', {
        ...subscriptionRequest(q),
        signal: controllers[i]!.signal,
      });
      expect(res.status).toBe(200);
      // reading starts the subscription
      const reader = sseReader(res);
      readers.push(reader);
      void reader.next(2_000).catch(() => 'ended');
    }
    for (let i = 0; i < 50 && listening < 2; i++) await settle();
    expect(listening).toBe(2);
    for (const c of controllers) c.abort();
    for (let i = 0; i < 20 && listening > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(listening).toBe(0);
    for (const r of readers) await r.close();
  });

  it('subscribing with a bad token is a 401', async () => {
    const res = await app.fetch(
      'http://localhost/graphql',
      subscriptionRequest(ISSUE_PUBLISHED_SLUG, {}, { authorization: 'Bearer llmp_wrong' }),
    );
    expect(res.status).toBe(401);
  });
});

describe.skipIf(!process.env.DATABASE_URL || !process.env.REDIS_URL)(
  'across server processes through Redis (needs DATABASE_URL and REDIS_URL)',
  () => {
    it('a client on server A receives a publish made through server B', async () => {
      const db = await createThrowawayDatabase(process.env.DATABASE_URL!);
      const env = { DATABASE_URL: db.url, REDIS_URL: process.env.REDIS_URL };
      const a = await startServer(env);
      const b = await startServer(env);
      try {
        const handle = await createDb({ url: db.url });
        const { token } = await createToken(handle.db, { name: 'cross-process', scope: 'editor' });
        await handle.close();
        const auth = { authorization: `Bearer ${token}` };
        const stream = sseReader(
          await fetch(`${a.url}/graphql`, subscriptionRequest(ISSUE_PUBLISHED_SLUG)),
          ISSUE_PUBLISHED_SLUG,
        );
        try {
          const post = <D extends typeof CREATE | typeof PUBLISH>(document: D, variables: VariablesOf<D>) =>
            fetch(`${b.url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...auth },
              body: JSON.stringify({ query: documentText(document), variables }),
            }).then((r) => r.json() as Promise<{ data?: ResultOf<D> }>);
          const pending = stream.next();
          // give the subscriber a moment to be registered with Redis
          await new Promise((r) => setTimeout(r, 500));
          const id = createdId((await post(CREATE, { slug: 'cross-process' })).data?.createIssue);
          await post(PUBLISH, { id });
          expect(await pending).toEqual({ data: { issuePublished: { slug: 'cross-process' } } });
        } finally {
          await stream.close();
        }
      } finally {
        await a.stop();
        await b.stop();
        await db.drop();
      }
    }, 120_000);
  },
);
