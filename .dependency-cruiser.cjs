/**
 * The layer rules of src/ (README → Layout). `npm run check:layers` enforces them
 * in .ci/run; a rule here is a rule of the codebase, not a suggestion.
 */
const layer = (name) => `^src/${name}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles anywhere in src/, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'newsletter-is-pure',
      severity: 'error',
      comment: 'src/newsletter is text in, structure out: it imports nothing else of ours and no database or GraphQL code.',
      from: { path: layer('newsletter') },
      to: {
        path: ['^src/', 'node_modules/(drizzle-orm|pg|@electric-sql|graphql|graphql-yoga|@pothos|dataloader)/'],
        pathNot: layer('newsletter'),
      },
    },
    {
      name: 'sql-only-under-db',
      severity: 'error',
      comment: 'SQL and database drivers are used only under src/db (schema, queries, clients, migrator).',
      from: { path: '^src/', pathNot: ['^src/db/'] },
      to: { path: 'node_modules/(drizzle-orm|pg|@electric-sql/pglite|pg-protocol)/' },
    },
    {
      name: 'drizzle-values-through-orm',
      severity: 'error',
      comment:
        'drizzle-orm values come from src/db/orm.ts, which the build bundles into one file (Node 24 loads the ' +
        "package's own files slowly): a direct value import would load them all again. Types may come from drizzle-orm.",
      from: { path: '^src/', pathNot: '^src/db/orm\\.ts$' },
      to: { path: 'node_modules/drizzle-orm/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'db-below-everything',
      severity: 'error',
      comment: 'The database layer knows nothing of GraphQL, HTTP, search orchestration, the editorial service or the CLI.',
      from: { path: layer('db') },
      to: { path: [layer('graphql'), layer('http'), layer('search'), layer('editorial'), layer('cli'), '^src/(server|main|app)\\.ts$'] },
    },
    {
      name: 'services-below-graphql',
      severity: 'error',
      comment: 'The editorial service, feeds, fixtures and webhooks are used by GraphQL and HTTP, never the other way round.',
      from: { path: [layer('editorial'), layer('feeds'), layer('fixtures'), layer('webhooks')] },
      to: { path: [layer('graphql'), layer('http'), layer('search'), layer('cli'), '^src/(server|main|app)\\.ts$'] },
    },
    {
      name: 'mcp-through-the-api-only',
      severity: 'error',
      comment:
        'src/mcp reads the archive through GraphQL operations only (a function the transport gives it): ' +
        'no database, schema, search, HTTP pipeline or other service of ours.',
      from: { path: layer('mcp') },
      to: {
        path: [layer('db'), layer('graphql'), layer('http'), layer('search'), layer('editorial'), layer('feeds'), layer('cli'), '^src/(server|main|app)\\.ts$'],
      },
    },
    {
      name: 'search-below-the-schema',
      severity: 'error',
      comment:
        "src/search is the GraphQL layer's search service: it may use the layer's Relay pagination and error helpers, " +
        'never the schema (builder, types, loaders, context), HTTP or the process.',
      from: { path: layer('search') },
      to: {
        path: [layer('graphql'), layer('http'), layer('cli'), '^src/(server|main|app)\\.ts$'],
        pathNot: '^src/graphql/(pagination|errors)\\.ts$',
      },
    },
    {
      name: 'graphql-below-http',
      severity: 'error',
      comment: 'The schema and its resolvers do not depend on the HTTP pipeline, the routes or the process.',
      from: { path: layer('graphql') },
      to: { path: [layer('http'), layer('cli'), '^src/(server|main|app)\\.ts$'] },
    },
    {
      name: 'pipeline-apart-from-routes',
      severity: 'error',
      comment: 'The request pipeline (limits, caches, persisted operations) knows no route; routes may use its budgets.',
      from: { path: '^src/http/pipeline/' },
      to: { path: '^src/http/routes/' },
    },
    {
      name: 'nothing-imports-the-entry-points',
      severity: 'error',
      comment: 'src/server.ts (with main.ts, the server it loads) and the CLI commands are entry points; shared code lives elsewhere.',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/server\\.ts$'] },
      to: { path: ['^src/(server|main)\\.ts$', layer('cli')] },
    },
    {
      name: 'src-does-not-import-tests-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tests|bench|examples)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: { path: ['^src/', 'node_modules'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
