/** URL paths that both the request pipeline and the routes need to know. */

/** GraphiQL's own scripts and styles, served by the server itself (routes/graphiql.ts). */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';
