/**
 * The server's entry point (`node dist/server.js`, `npm start`). Two steps, in this order: the allocator's
 * re-execution (allocator.ts), which must happen before the server's module graph is loaded — Node parses every
 * statically imported module before it evaluates the first, and loading it twice cost a restart 0.6–0.9 s — then
 * the server itself (main.ts), imported dynamically for that reason.
 */
import './allocator.js';

await import('./main.js');
