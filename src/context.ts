import type { Db } from './db/client.js';
import { type Loaders, createLoaders } from './graphql/loaders.js';

/** Who is asking. Anonymous readers see published editions only. */
export interface Viewer {
  kind: 'anonymous' | 'editor' | 'admin';
  /** Whether drafts are visible to this viewer. */
  canSeeDrafts: boolean;
}

export const anonymousViewer: Viewer = { kind: 'anonymous', canSeeDrafts: false };

/** Per-request context: a NEW one (with new loaders) for every request. */
export interface Context {
  db: Db;
  viewer: Viewer;
  loaders: Loaders;
}

export function createContext(db: Db, viewer: Viewer = anonymousViewer): Context {
  return { db, viewer, loaders: createLoaders(db, { drafts: viewer.canSeeDrafts }) };
}
