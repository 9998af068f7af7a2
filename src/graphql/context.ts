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
}

export function createContext(
  db: Db,
  events: Events,
  viewer: Viewer = anonymousViewer,
  onWrite: () => Promise<void> = async () => {},
  webhookAllowPrivate = false,
): Context {
  const loaders = createLoaders(db, { drafts: viewer.canSeeDrafts });
  return { db, viewer, events, onWrite, webhookAllowPrivate, loaders };
}
