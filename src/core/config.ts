// Configuration: every environment variable the server reads, parsed once with
// zod, frozen and passed down. Nothing else in the project reads process.env.
import { hostname } from 'node:os';
import { z } from 'zod';
import { StreamerError } from './errors.js';

const boolText = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'true, false, 1, 0, yes or no' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const bool = (fallback: boolean) => boolText.optional().transform((v) => v ?? fallback);

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
        .min(min, { error: `a whole number from ${min} to ${max}` })
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
        .positive({ error: `a positive number of milliseconds up to ${max}` })
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
  SLOW_CLIENT_TIMEOUT_MS: int(5_000, 0, 3_600_000),
  SUBSCRIPTION_GRACE_MS: int(2_000, 0, 3_600_000),
  DETAIL_IDLE_MS: int(60_000, 1, 86_400_000),
  DEMO_RATE: int(250, 0, 100_000),
  STATSD_HOST: z.string().trim().min(1).optional(),
  STATSD_PORT: int(8125, 1, 65535),
  STATSD_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]*$/, { error: 'letters, digits, "_", "-" and "." only' })
    .optional()
    .transform((v) => v ?? 'rx-streamer.'),
  METRICS_INTERVAL_MS: int(10_000, 10, 3_600_000),
  // Left unset, the status hash follows NODE_ENV (on in staging and production).
  STATUS_HASH: boolText.optional(),
  STATUS_REPORT_MS: int(5_000, 10, 3_600_000),
  SSE_FORCE_REFRESH: bool(false),
  SSE_RETRY_MS: int(100, 0, 3_600_000),
  SSE_DETAIL_RETRY_MS: int(500, 0, 3_600_000),
  SSE_MAX_AGE_MS: int(300_000, 1, 86_400_000),
  SSE_DETAIL_MAX_AGE_MS: int(300_000, 1, 86_400_000),
  ENABLE_KIOSK_INTERACTION_STREAM: bool(false),
  TRUST_PROXY: z
    .string()
    .trim()
    .min(1)
    .optional()
    .transform((v): boolean | number | string => {
      if (v === undefined || /^(false|0|no)$/i.test(v)) return false;
      if (/^(true|yes)$/i.test(v)) return true;
      return /^\d+$/.test(v) ? Number(v) : v;
    }),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 600_000),
  WORKERS: int(1, 1, 64),
  SHUTDOWN_RETRY_MS: int(1_000, 0, 3_600_000),
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
  /** How long a client may stay over that bound before it is dropped. */
  readonly slowClientTimeoutMs: number;
  /** How long an upstream subscription outlives its last subscriber. */
  readonly subscriptionGraceMs: number;
  /** How long a detail route lives without traffic before its group ends. */
  readonly detailIdleMs: number;
  /** Updates per second of the embedded demo feeder (used without REDIS_URL). */
  readonly demoRate: number;
  /** Unset means no statsd client and no metrics. */
  readonly statsdHost: string | undefined;
  readonly statsdPort: number;
  /** Prepended to every metric name; ends with "." unless empty. */
  readonly statsdPrefix: string;
  /** How often the client gauges and counters go to statsd. */
  readonly metricsIntervalMs: number;
  /** Write the status document to the Redis hash `admin_stream_status`. */
  readonly statusHash: boolean;
  readonly statusReportMs: number;
  /** The Ruby streamer's connection management: retry lines, cleanup header, maximum age. */
  readonly sseForceRefresh: boolean;
  readonly sseRetryMs: number;
  readonly sseDetailRetryMs: number;
  readonly sseMaxAgeMs: number;
  readonly sseDetailMaxAgeMs: number;
  readonly enableKioskInteractionStream: boolean;
  /** Express's `trust proxy`: false, true, a hop count, or addresses/subnets. */
  readonly trustProxy: boolean | number | string;
  /** The bound on a graceful shutdown; past it the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  /** Processes serving the port (node:cluster); 1 serves from this process. */
  readonly workers: number;
  /** The `retry:` sent to every SSE client as the server goes down. */
  readonly shutdownRetryMs: number;
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
      `${name}=${JSON.stringify(hideSecrets(present[name] ?? ''))} is not valid: expected ${issue?.message ?? 'a valid value'}`,
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
    slowClientTimeoutMs: e.SLOW_CLIENT_TIMEOUT_MS,
    subscriptionGraceMs: e.SUBSCRIPTION_GRACE_MS,
    detailIdleMs: e.DETAIL_IDLE_MS,
    demoRate: e.DEMO_RATE,
    statsdHost: e.STATSD_HOST,
    statsdPort: e.STATSD_PORT,
    statsdPrefix:
      e.STATSD_PREFIX === '' || e.STATSD_PREFIX.endsWith('.')
        ? e.STATSD_PREFIX
        : `${e.STATSD_PREFIX}.`,
    metricsIntervalMs: e.METRICS_INTERVAL_MS,
    statusHash: e.STATUS_HASH ?? (e.NODE_ENV === 'staging' || e.NODE_ENV === 'production'),
    statusReportMs: e.STATUS_REPORT_MS,
    sseForceRefresh: e.SSE_FORCE_REFRESH,
    sseRetryMs: e.SSE_RETRY_MS,
    sseDetailRetryMs: e.SSE_DETAIL_RETRY_MS,
    sseMaxAgeMs: e.SSE_MAX_AGE_MS,
    sseDetailMaxAgeMs: e.SSE_DETAIL_MAX_AGE_MS,
    enableKioskInteractionStream: e.ENABLE_KIOSK_INTERACTION_STREAM,
    trustProxy: e.TRUST_PROXY,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workers: e.WORKERS,
    shutdownRetryMs: e.SHUTDOWN_RETRY_MS,
  });
}

/** A URL's password never reaches a log line: `redis://u:pw@h` is shown as `redis://u:***@h`. */
function hideSecrets(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
