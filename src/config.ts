import { z } from 'zod';

/**
 * All configuration comes from environment variables, parsed and validated
 * here, in one place. Invalid values stop the process with a clear message.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number({ message: 'must be a port number' }).int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** PostgreSQL connection string. When unset, an embedded PGlite database is used. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** Redis for subscriptions across server processes (and, later, shared limits and cache). In-process when unset. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  /** Directory of the embedded PGlite database (ignored when DATABASE_URL is set). */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Maximum connections of the PostgreSQL pool. */
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Load the sample edition into an empty database at start-up. */
  SEED_SAMPLE: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
