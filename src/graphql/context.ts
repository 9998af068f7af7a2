import { type Viewer, anonymousViewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { Events } from '../events.js';
import { type Loaders, createLoaders } from './loaders.js';

/** Per-request context: a NEW one (with new loaders) for every request. */
export interface Context {
  db: Db;
  viewer: Viewer;
  loaders: Loaders;
  events: Events;
  /** Called after every committed write (drops cached responses). */
  onWrite: () => Promise<void>;
  /** WEBHOOK_ALLOW_PRIVATE: webhook URLs may name loopback and private addresses. */
  webhookAllowPrivate: boolean;
  /**
   * The primary database. `db` is a replica for a query that may read from one (DATABASE_REPLICA_URLS); a
   * mutation or subscription gets the primary as `db` before it runs.
   */
  primary: Db;
  /** After a committed write: remembers the primary's WAL position for this client's next reads (`x-read-after`). */
  noteWrite: () => Promise<void>;
}

/** Extra parts of a context (the app's replica routing); a plain context reads and writes `db`. */
export interface ContextRouting {
  primary: Db;
  noteWrite: () => Promise<void>;
}

export function createContext(
  db: Db,
  events: Events,
  viewer: Viewer = anonymousViewer,
  onWrite: () => Promise<void> = async () => {},
  webhookAllowPrivate = false,
  routing: ContextRouting = { primary: db, noteWrite: async () => {} },
): Context {
  const loaders = createLoaders(db, { drafts: viewer.canSeeDrafts });
  return { db, viewer, events, onWrite, webhookAllowPrivate, loaders, ...routing };
}

/** The context of a mutation or subscription: the primary for every read and write (new loaders on it). */
export function usePrimary(ctx: Context): void {
  if (ctx.db === ctx.primary) return;
  ctx.db = ctx.primary;
  ctx.loaders = createLoaders(ctx.primary, { drafts: ctx.viewer.canSeeDrafts });
}
