import { readMigrationFiles, sql } from './orm.js';
import { type DbHandle, createDb, migrationsFolder } from './client.js';
import { type LockHolder, DirLockError, describeHolder, lockHolder, tryAcquireDirLock } from './dir-lock.js';
import { BRIDGE_PROTOCOL } from './pglite-bridge.js';
import { selectRows } from './queries/util.js';

/**
 * How a command-line tool (import, export, token, seed, migrate, bench:data)
 * opens the database, so that it works the same whether or not a server runs:
 *
 * - PostgreSQL (`url`): directly; PostgreSQL serves many clients.
 * - PGlite, directory free: this process locks the directory, opens it, and
 *   holds the lock until it closes (a server started meanwhile waits).
 * - PGlite held by a running server: through that server's bridge (a Unix
 *   socket), never by opening the files, after checking that the server's
 *   migrations are exactly this version's.
 * - PGlite held by another command, or a server still starting: waits for
 *   it, then goes on as above.
 *
 * Whatever cannot be done is refused before any file is touched.
 */
export interface OpenForCommandOptions {
  url?: string | undefined;
  dataDir: string;
  /** A new data directory's cluster: the installation's template (default) or, false, PGlite's initdb. */
  pgliteTemplate?: false | undefined;
  /** Names this command in the lock and in messages ("import", "token", …). */
  command: string;
  /** Apply migrations when the database is opened directly (default true). */
  migrate?: boolean;
  poolMax?: number;
  /** How long to wait for another command or a starting server (ms). */
  waitMs?: number;
  /** Progress notes for the user (stderr). */
  note?: (text: string) => void;
}

export interface CommandDb extends DbHandle {
  /** PID of the server whose database this is, when going through one. */
  serverPid: number | null;
}

export class CommandRefused extends DirLockError {}

const DEFAULT_WAIT_MS = 60_000;
const POLL_MS = 150;

export async function openForCommand(options: OpenForCommandOptions): Promise<CommandDb> {
  const migrate = options.migrate ?? true;
  if (options.url) {
    const handle = await createDb({ url: options.url, poolMax: options.poolMax });
    if (migrate) await handle.migrate();
    return { ...handle, serverPid: null };
  }
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  let waitingFor: number | null = null;
  for (;;) {
    const lock = tryAcquireDirLock(options.dataDir, options.command);
    if (lock) {
      process.on('exit', lock.release);
      try {
        const handle = await createDb({ dataDir: options.dataDir, pgliteTemplate: options.pgliteTemplate });
        if (migrate) await handle.migrate();
        return {
          ...handle,
          serverPid: null,
          close: async () => {
            try {
              await handle.close();
            } finally {
              lock.release();
            }
          },
        };
      } catch (err) {
        lock.release();
        throw err;
      }
    }
    const holder = lockHolder(options.dataDir);
    if (holder?.bridge) {
      const handle = await throughServer(holder, options);
      if (handle) return handle;
    } else if (holder && holder.pid !== waitingFor) {
      waitingFor = holder.pid;
      options.note?.(
        holder.role === 'server'
          ? `waiting for ${describeHolder(holder)} to open the database…`
          : `waiting for ${describeHolder(holder)} to finish…`,
      );
    }
    if (Date.now() >= deadline) {
      const who = holder ? describeHolder(holder) : 'another process';
      throw new CommandRefused(
        `The data directory ${options.dataDir} is held by ${who} and it did not let go in time; nothing was changed. ` +
          `Run the command again when it has finished, or stop it.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The server's database through its bridge; null when the server went away meanwhile (try again). */
async function throughServer(holder: LockHolder, options: OpenForCommandOptions): Promise<CommandDb | null> {
  const bridge = holder.bridge!;
  const who = describeHolder(holder);
  if (bridge.protocol !== BRIDGE_PROTOCOL) {
    throw new CommandRefused(
      `${who} holds ${options.dataDir} but runs another version of this program (bridge ${bridge.protocol}, this one ${BRIDGE_PROTOCOL}); ` +
        `nothing was changed. Run the command from the server's version, or stop the server (then the command opens the directory itself).`,
    );
  }
  const handle = await createDb({ bridgeSocketDir: bridge.socketDir, poolMax: options.poolMax });
  try {
    await checkMigrations(handle, who, options.command);
  } catch (err) {
    await handle.close().catch(() => {});
    if (err instanceof CommandRefused) throw err;
    // The server stopped between reading its lock and connecting: the directory may be free now.
    if (lockHolder(options.dataDir)?.pid === holder.pid) throw err;
    return null;
  }
  options.note?.(`using the database of ${who}`);
  return { ...handle, serverPid: holder.pid };
}

/** Refuses when the server's applied migrations are not exactly the ones this version ships. */
async function checkMigrations(handle: DbHandle, who: string, command: string): Promise<void> {
  const local = readMigrationFiles({ migrationsFolder: migrationsFolder() });
  const applied = await selectRows<{ created_at: string | number }>(
    handle.db,
    sql`SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at`,
  );
  const lastApplied = Math.max(0, ...applied.map((r) => Number(r.created_at)));
  const lastLocal = Math.max(0, ...local.map((m) => m.folderMillis));
  if (lastLocal > lastApplied) {
    const pending = local.filter((m) => m.folderMillis > lastApplied).length;
    throw new CommandRefused(
      `${who} has not applied ${pending} migration(s) that this version needs; nothing was changed. ` +
        `Restart the server (it applies migrations when it starts), then run \`npm run ${command}\` again.`,
    );
  }
  if (lastApplied > lastLocal) {
    throw new CommandRefused(
      `${who} runs a newer database schema than this version knows; nothing was changed. ` +
        `Update this checkout to the server's version, then run \`npm run ${command}\` again.`,
    );
  }
}
