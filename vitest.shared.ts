import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
// One copy of graphql for everything (two copies make Yoga mask real errors).
const graphqlDir = path.dirname(require.resolve('graphql/package.json'));

/** The `resolve` settings every vitest config of this project uses. */
export const resolve = {
  alias: [{ find: /^graphql$/, replacement: path.join(graphqlDir, 'index.js') }],
};
