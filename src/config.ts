// Configuration: every environment variable the server reads, parsed once with
// zod, frozen and passed down. Nothing else in the project reads process.env.
import { hostname } from 'node:os';
import { z } from 'zod';
import { StreamerError } from './errors.js';

const bool = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'true, false, 1, 0, yes or no' }),
    )
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .optional()
    .transform((v) => v ?? fallback);

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: `a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min)
        .max(max, { error: `a whole number from ${min} to ${max}` }),
    )
    .optional()
    .transform((v) => v ?? fallback);

const positive = (fallback: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, { error: `a positive number of milliseconds up to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .positive()
        .max(max, { error: `a positive number of milliseconds up to ${max}` }),
    )
    .optional()
    .transform((v) => v ?? fallback);

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { error: `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    )
    .optional();

const schema = z.object({
  PORT: int(8001, 0, 65535),
  HOST: z.string().trim().min(1).optional(),
  REDIS_URL: url(['redis:', 'rediss:']),
  NODE_ENV: z
    .enum(['development', 'test', 'staging', 'production'], {
      error: 'development, test, staging or production',
    })
    .optional()
    .transform((v) => v ?? 'development'),
  NODE_NAME: z.string().trim().min(1).optional(),
  LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'debug', 'silent'], {
      error: 'error, warn, info, debug or silent',
    })
    .optional()
    .transform((v) => v ?? 'info'),
  VERBOSE: bool(false),
  KEEPALIVE_MS: int(15_000, 100, 3_600_000),
  EPS_INTERVAL_MS: positive(1000 / 60, 60_000),
  CORS_ORIGIN: z
    .string()
    .trim()
    .min(1)
    .optional()
    .transform((v) => v ?? '*'),
  ENABLE_RAW_STREAM: bool(true),
  SSE_MAX_BUFFER_BYTES: int(512 * 1024, 1024, 1024 * 1024 * 1024),
  SUBSCRIPTION_GRACE_MS: int(2_000, 0, 3_600_000),
  DETAIL_IDLE_MS: int(60_000, 1, 86_400_000),
  DEMO_RATE: int(250, 0, 100_000),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  readonly port: number;
  readonly host: string | undefined;
  readonly redisUrl: string | undefined;
  readonly nodeEnv: 'development' | 'test' | 'staging' | 'production';
  readonly nodeName: string;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug' | 'silent';
  readonly verbose: boolean;
  readonly keepaliveMs: number;
  readonly epsIntervalMs: number;
  readonly corsOrigin: string;
  readonly enableRawStream: boolean;
  /** Unsent bytes a client may hold before it is dropped as too slow. */
  readonly sseMaxBufferBytes: number;
  /** How long an upstream subscription outlives its last subscriber. */
  readonly subscriptionGraceMs: number;
  /** How long a detail route lives without traffic before its group ends. */
  readonly detailIdleMs: number;
  /** Updates per second of the embedded demo feeder (used without REDIS_URL). */
  readonly demoRate: number;
}

/** Parses the environment once; throws a StreamerError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  // Empty strings mean "unset", as a shell `FOO= cmd` intends.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new StreamerError(
      'RXS_ERR_CONFIG',
      `${name}=${JSON.stringify(present[name] ?? '')} is not valid: expected ${issue?.message ?? 'a valid value'}`,
      500,
    );
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    nodeEnv: e.NODE_ENV,
    nodeName: e.NODE_NAME ?? `${hostname()}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    verbose: e.VERBOSE,
    keepaliveMs: e.KEEPALIVE_MS,
    epsIntervalMs: e.EPS_INTERVAL_MS,
    corsOrigin: e.CORS_ORIGIN,
    enableRawStream: e.ENABLE_RAW_STREAM,
    sseMaxBufferBytes: e.SSE_MAX_BUFFER_BYTES,
    subscriptionGraceMs: e.SUBSCRIPTION_GRACE_MS,
    detailIdleMs: e.DETAIL_IDLE_MS,
    demoRate: e.DEMO_RATE,
  });
}
