// The core configuration: the environment variables of the server itself, parsed
// once, frozen and passed down. Each protocol module parses its own
// variables (see protocol.ts) from the same environment, which is kept here.
// Nothing else in the project reads process.env.
import { hostname } from 'node:os';
import {
  bool,
  boolText,
  envSchema,
  int,
  list,
  oneOf,
  parseEnv,
  presentVariables,
  text,
  url,
} from './env.js';
import { StreamerError } from './errors.js';
import type { Env } from './env.js';
import { defaultOrigins, parseOrigins } from './origins.js';
import type { AllowedOrigins } from './origins.js';

export type { Env } from './env.js';

const schema = envSchema({
  PORT: int(8001, 0, 65535),
  HOST: text(),
  REDIS_URL: url(['redis:', 'rediss:']),
  REDIS_CLUSTER_NODES: list(
    /^[A-Za-z0-9.[\]:-]+:\d{1,5}$/,
    'a comma-separated list of host:port seed nodes',
  ).map((nodes) => nodes.map(clusterNode)),
  REDIS_SHARDED_CHANNELS: list(/^[^\s,]+$/, 'a comma-separated list of channel globs').or([]),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  NODE_ENV: oneOf(['development', 'test', 'staging', 'production']).or('development'),
  NODE_NAME: text(),
  LOG_LEVEL: oneOf(['error', 'warn', 'info', 'debug', 'silent']).or('info'),
  VERBOSE: bool(false),
  KEEPALIVE_MS: int(15_000, 100, 3_600_000),
  CORS_ORIGIN: text().or('*'),
  ALLOWED_ORIGINS: text().map(parseOrigins),
  PROTOCOLS: list(/^[a-z0-9_-]+$/i, 'a comma-separated list of protocol names'),
  PUBLIC_PROTOCOLS: list(/^[a-z0-9_-]+$/i, 'a comma-separated list of protocol names').or([]),
  SSE_MAX_BUFFER_BYTES: int(512 * 1024, 1024, 1024 * 1024 * 1024),
  HUB_WRITES_PER_TURN: int(256, 1, 1_000_000),
  MAX_CONNECTIONS: int(0, 0, 10_000_000),
  MAX_CONNECTIONS_PER_IP: int(0, 0, 10_000_000),
  MAX_TOPICS: int(100_000, 0, 100_000_000),
  LISTEN_BACKLOG: int(511, 1, 65_535),
  WS_MAX_FRAME_BYTES: int(1024 * 1024, 64, 64 * 1024 * 1024),
  WS_PING_MS: int(30_000, 100, 3_600_000),
  WS_MAX_MESSAGES_PER_S: int(1_000, 1, 1_000_000),
  SLOW_CLIENT_TIMEOUT_MS: int(5_000, 0, 3_600_000),
  SUBSCRIPTION_GRACE_MS: int(2_000, 0, 3_600_000),
  STATSD_HOST: text(),
  STATSD_PORT: int(8125, 1, 65535),
  STATSD_PREFIX: text()
    .check(/^[A-Za-z0-9_.-]*$/, 'letters, digits, "_", "-" and "." only')
    .or('rx-streamer.'),
  METRICS_INTERVAL_MS: int(10_000, 10, 3_600_000),
  METRICS_PROCESS: bool(false),
  // Left unset, the status hash follows NODE_ENV (on in staging and production).
  STATUS_HASH: boolText,
  STATUS_REPORT_MS: int(5_000, 10, 3_600_000),
  TRUST_PROXY: text()
    .map((v): boolean | number | string => {
      if (/^(false|0|no)$/i.test(v)) return false;
      if (/^(true|yes)$/i.test(v)) return true;
      return /^\d+$/.test(v) ? Number(v) : v;
    })
    .or(false),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 600_000),
  WORKERS: int(1, 1, 64),
  /** Set by the cluster primary for each worker (see cluster.ts). */
  RXS_WORKER_SLOT: int(0, 0, 63),
  SHUTDOWN_RETRY_MS: int(1_000, 0, 3_600_000),
  ADMIN_TOKEN: text().check((v) => v.length >= 16, 'a token of at least 16 characters'),
  ADMIN_MAX_CONNECTIONS: int(1000, 0, 1_000_000),
  PUBLISH_API_KEY: text().check((v) => v.length >= 16, 'a key of at least 16 characters'),
  HISTORY_SIZE: int(100, 1, 100_000),
  HISTORY_TTL_S: int(300, 1, 30 * 86_400),
  RECOVERY_MAX: int(300, 0, 100_000),
});

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[::1]:port` too; the port is the part after the last colon. */
function clusterNode(text: string): RedisNode {
  const colon = text.lastIndexOf(':');
  return Object.freeze({
    host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
    port: Number(text.slice(colon + 1)),
  });
}

export interface Config {
  readonly port: number;
  readonly host: string | undefined;
  /** A single Redis; exactly one of it and `redisCluster` when the server runs on Redis. */
  readonly redisUrl: string | undefined;
  /** A Redis Cluster's seed nodes (REDIS_CLUSTER_NODES). */
  readonly redisCluster: readonly RedisNode[] | undefined;
  /**
   * Globs of the channels subscribed with SSUBSCRIBE and published with SPUBLISH
   * (REDIS_SHARDED_CHANNELS); every other channel keeps SUBSCRIBE and PUBLISH.
   */
  readonly shardedChannels: readonly string[];
  /** Postgres, for LISTEN/NOTIFY monitors; unset: none. */
  readonly databaseUrl: string | undefined;
  /**
   * Protocols staging and production may serve without authentication
   * (PUBLIC_PROTOCOLS); any other that would is refused at start-up.
   */
  readonly publicProtocols: readonly string[];
  readonly nodeEnv: 'development' | 'test' | 'staging' | 'production';
  readonly nodeName: string;
  /**
   * This process's name across restarts, for what must outlive it (a queue's
   * consumer group): NODE_NAME, or the host name, and `.w<slot>` for a worker
   * when WORKERS > 1.
   */
  readonly instanceName: string;
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug' | 'silent';
  readonly verbose: boolean;
  readonly keepaliveMs: number;
  readonly corsOrigin: string;
  /** Pages that may open WebSocket and SockJS connections besides the server's own. */
  readonly allowedOrigins: AllowedOrigins;
  /** The protocol modules to mount, by name; undefined mounts every one given. */
  readonly protocols: readonly string[] | undefined;
  /** Unsent bytes a client may hold before it is dropped as too slow. */
  readonly sseMaxBufferBytes: number;
  /** Client writes per event-loop turn before the hub lets the loop run again. */
  readonly hubWritesPerTurn: number;
  /** Connections at most (streams and WebSocket clients); 0: no bound. Over it: 503. */
  readonly maxConnections: number;
  /** Connections at most from one client IP; 0: no bound. Over it: 503. */
  readonly maxConnectionsPerIp: number;
  /** Distinct topics (detail ids, channels, sites…) at most in this process; 0: no bound. */
  readonly maxTopics: number;
  /** The listen socket's queue of connections not yet accepted. */
  readonly listenBacklog: number;
  /** The largest frame a WebSocket client may send; a larger one closes it with 1009. */
  readonly wsMaxFrameBytes: number;
  /** How often WebSocket clients are pinged; one that missed the last pong is dropped. */
  readonly wsPingMs: number;
  /** Messages a second one WebSocket or SockJS client may send; past it, it is closed with 1008. */
  readonly wsMaxMessagesPerS: number;
  /** How long a client may stay over that bound before it is dropped. */
  readonly slowClientTimeoutMs: number;
  /** How long an upstream subscription outlives its last subscriber. */
  readonly subscriptionGraceMs: number;
  /** Unset means no statsd client and no metrics. */
  readonly statsdHost: string | undefined;
  readonly statsdPort: number;
  /** Prepended to every metric name; ends with "." unless empty. */
  readonly statsdPrefix: string;
  /** How often the client gauges and counters go to statsd. */
  readonly metricsIntervalMs: number;
  /** Add prom-client's process metrics (event-loop delay, GC…) to /metrics. */
  readonly metricsProcess: boolean;
  /** Write the status document to the Redis hash `admin_stream_status`. */
  readonly statusHash: boolean;
  readonly statusReportMs: number;
  /** Express's `trust proxy`: false, true, a hop count, or addresses/subnets. */
  readonly trustProxy: boolean | number | string;
  /** The bound on a graceful shutdown; past it the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  /** Processes serving the port (node:cluster); 1 serves from this process. */
  readonly workers: number;
  /** The `retry:` sent to every SSE client as the server goes down. */
  readonly shutdownRetryMs: number;
  /**
   * The bearer token that shows /admin/status.json in full (client addresses and
   * User-Agents); without it they are masked. Unset: every document is masked.
   */
  readonly adminToken: string | undefined;
  /** The bearer key of POST /api/publish; unset, the endpoint answers 404 saying so. */
  readonly publishApiKey: string | undefined;
  /** Messages kept per channel published with history, and for how long after the last (s). */
  readonly historySize: number;
  readonly historyTtlS: number;
  /**
   * The most messages one recovery replays; a client that missed more is told
   * it is not recovered (and reloads its state) instead.
   */
  readonly recoveryMax: number;
  /** The most connections /admin/status.json and the status hash list. */
  readonly adminMaxConnections: number;
  /** The environment it was read from, for the protocol modules' own variables. */
  readonly env: Readonly<Record<string, string>>;
}

/** Parses the environment once; throws a StreamerError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const e = parseEnv(schema, env);
  if (e.REDIS_URL !== undefined && e.REDIS_CLUSTER_NODES !== undefined) {
    throw new StreamerError(
      'RXS_ERR_CONFIG',
      'REDIS_URL and REDIS_CLUSTER_NODES are both set: expected exactly one of them (a single Redis or a Redis Cluster)',
      500,
    );
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER_NODES && Object.freeze(e.REDIS_CLUSTER_NODES),
    shardedChannels: Object.freeze(e.REDIS_SHARDED_CHANNELS),
    databaseUrl: e.DATABASE_URL,
    nodeEnv: e.NODE_ENV,
    nodeName: e.NODE_NAME ?? `${hostname()}-${process.pid}`,
    instanceName: `${e.NODE_NAME ?? hostname()}${e.WORKERS > 1 ? `.w${e.RXS_WORKER_SLOT}` : ''}`,
    logLevel: e.LOG_LEVEL,
    verbose: e.VERBOSE,
    keepaliveMs: e.KEEPALIVE_MS,
    corsOrigin: e.CORS_ORIGIN,
    allowedOrigins: e.ALLOWED_ORIGINS ?? defaultOrigins(e.CORS_ORIGIN),
    protocols: e.PROTOCOLS,
    publicProtocols: Object.freeze(e.PUBLIC_PROTOCOLS),
    sseMaxBufferBytes: e.SSE_MAX_BUFFER_BYTES,
    hubWritesPerTurn: e.HUB_WRITES_PER_TURN,
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    maxTopics: e.MAX_TOPICS,
    listenBacklog: e.LISTEN_BACKLOG,
    wsMaxFrameBytes: e.WS_MAX_FRAME_BYTES,
    wsPingMs: e.WS_PING_MS,
    wsMaxMessagesPerS: e.WS_MAX_MESSAGES_PER_S,
    slowClientTimeoutMs: e.SLOW_CLIENT_TIMEOUT_MS,
    subscriptionGraceMs: e.SUBSCRIPTION_GRACE_MS,
    statsdHost: e.STATSD_HOST,
    statsdPort: e.STATSD_PORT,
    statsdPrefix:
      e.STATSD_PREFIX === '' || e.STATSD_PREFIX.endsWith('.')
        ? e.STATSD_PREFIX
        : `${e.STATSD_PREFIX}.`,
    metricsIntervalMs: e.METRICS_INTERVAL_MS,
    metricsProcess: e.METRICS_PROCESS,
    statusHash: e.STATUS_HASH ?? (e.NODE_ENV === 'staging' || e.NODE_ENV === 'production'),
    statusReportMs: e.STATUS_REPORT_MS,
    trustProxy: e.TRUST_PROXY,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workers: e.WORKERS,
    shutdownRetryMs: e.SHUTDOWN_RETRY_MS,
    adminToken: e.ADMIN_TOKEN,
    publishApiKey: e.PUBLISH_API_KEY,
    historySize: e.HISTORY_SIZE,
    historyTtlS: e.HISTORY_TTL_S,
    recoveryMax: e.RECOVERY_MAX,
    adminMaxConnections: e.ADMIN_MAX_CONNECTIONS,
    env: Object.freeze(presentVariables(env)),
  });
}
