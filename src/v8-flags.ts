/**
 * start:dist's V8 settings (package.json, README → Memory; a test keeps the two equal). One given on the command
 * line or in NODE_OPTIONS, with any value, is the operator's and is not added.
 */
export const V8_FLAGS = ['--max-old-space-size=2048', '--max-semi-space-size=16', '--heap-growing-percent=200'];

/** `--max_old_space_size=1` → `--max-old-space-size` (V8 accepts both spellings). */
const flagName = (arg: string) => arg.split('=')[0]!.replace(/_/g, '-');

/** The V8_FLAGS this process was started without. */
export function missingV8Flags(execArgv: string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter(Boolean).map(flagName));
  return V8_FLAGS.filter((flag) => !given.has(flagName(flag)));
}
