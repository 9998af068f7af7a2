import { createServer } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createDb } from './db/client.js';
import { isArchiveEmpty } from './db/queries/editions.js';
import { seedSample } from './db/seed.js';
import { createEvents } from './events.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const handle = await createDb({
    url: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
    poolMax: config.DB_POOL_MAX,
  });
  const where = handle.kind === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.DATA_DIR}`;
  await handle.migrate();
  if (config.SEED_SAMPLE && (await isArchiveEmpty(handle.db))) {
    await seedSample(handle.db);
    console.info('Loaded the sample edition into the empty database.');
  }

  const events = createEvents(config.REDIS_URL);
  const app = createApp({ db: handle.db, events });
  const server = createServer(app);
  server.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    console.info(`GraphQL API on http://localhost:${port}/graphql (GraphiQL in a browser), database: ${where}`);
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.info(`${signal} received: draining connections…`);
    const force = setTimeout(() => {
      console.error('Shutdown took too long; exiting.');
      process.exit(1);
    }, 20_000);
    force.unref();
    server.close(async () => {
      await events.close();
      await handle.close();
      console.info('Closed the database; bye.');
      process.exit(0);
    });
    server.closeIdleConnections();
    // Open event streams (subscriptions) never end by themselves: give requests
    // in flight a grace period, then close what is left.
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('Failed to start:', err);
  process.exit(1);
});
