import type { Config } from '../config.js';
import { DirLockError } from '../db/dir-lock.js';
import { type CommandDb, openForCommand } from '../db/open-for-command.js';

/** Exit status of a command that refused to run (nothing was changed). */
export const EXIT_REFUSED = 3;

/**
 * Opens the database for a command, beside a running server or not (see
 * open-for-command.ts). A refusal is printed and ends the process with
 * EXIT_REFUSED.
 */
export async function openCommandDb(
  config: Config,
  command: string,
  options: { migrate?: boolean; poolMax?: number } = {},
): Promise<CommandDb> {
  try {
    return await openForCommand({
      url: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      ...(config.PGLITE_TEMPLATE === 'off' ? { pgliteTemplate: false as const } : {}),
      command,
      ...options,
      note: (text) => console.error(text),
    });
  } catch (err) {
    if (err instanceof DirLockError) {
      console.error(err.message);
      process.exit(EXIT_REFUSED);
    }
    throw err;
  }
}
