/**
 * The entry point's first import (server.ts): on Linux with glibc, re-executes the process once (same pid, arguments and
 * environment) with glibc's malloc told to return freed memory to the system.
 *
 * Why: glibc keeps what other threads free in their arenas and, after one large free, raises its trim threshold
 * up to 64 MB per arena. V8's compiler threads (on Node 24 they optimize PGlite's WebAssembly for ~1.5 s after
 * start, ~500 MB at the peak) leave 35–60 MB of the idle server's RSS behind that way (BENCHMARKS.md, `startup`).
 * A fixed threshold makes free() give it back. glibc reads the setting from the environment only when a process
 * starts, hence the re-execution, done here, before the server's modules are loaded.
 *
 * The same re-execution adds start:dist's V8 settings (V8_FLAGS) that the process was not started with, so that
 * `node dist/server.js` and `npm start` run with the heap settings that were measured (without them, PGlite's peak
 * under 50 connections was 357 MB instead of 274: BENCHMARKS.md).
 *
 * Not done when MALLOC_TRIM_THRESHOLD_ or MALLOC_MMAP_THRESHOLD_ is already set (the operator's choice, and the
 * mark of the re-executed process), outside Linux, on another C library (musl ignores the variables), or on a
 * Node without `process.execve` (Node < 22.15: Node 20 keeps glibc's default).
 */

import { accessSync, constants } from 'node:fs';
import { missingV8Flags } from './v8-flags.js';

/** 1 MiB: a free()d megabyte at an arena's top goes back to the system; larger blocks are mmap()ed and unmapped. */
const THRESHOLD = String(1024 * 1024);

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

function reexecWithTrimmingMalloc(): void {
  const env = process.env;
  if (env.MALLOC_TRIM_THRESHOLD_ !== undefined || env.MALLOC_MMAP_THRESHOLD_ !== undefined) return;
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (process.platform !== 'linux' || typeof execve !== 'function') return;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (!report?.header?.glibcVersionRuntime) return;
  // Node aborts the process when execve fails, rather than throwing: try only with a binary that can be run (it
  // may have been removed or replaced by an upgrade since this process started).
  try {
    accessSync(process.execPath, constants.X_OK);
  } catch {
    return;
  }
  const args = [...missingV8Flags(process.execArgv, env.NODE_OPTIONS), ...process.execArgv, ...process.argv.slice(1)];
  execve.call(process, process.execPath, [process.execPath, ...args], {
    ...env,
    MALLOC_TRIM_THRESHOLD_: THRESHOLD,
    MALLOC_MMAP_THRESHOLD_: THRESHOLD,
  });
}

reexecWithTrimmingMalloc();
