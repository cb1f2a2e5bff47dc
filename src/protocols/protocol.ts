// A protocol module: one value that names a protocol, declares its own
// environment variables (a schema, validated at start-up like the core's)
// and starts it on the shared parts — sources, the hub, the stream table, HTTP
// routes, metrics, logger, scheduler — returning a handle for readiness, its
// section of the status document, and shutdown.
import type { Router } from 'express';
import type { RedisClient } from '../sources/redisClient.js';
import type { SchedulerLike } from 'rxjs';
import type { Hub } from '../fanout/Hub.js';
import type { ChannelHistory } from '../sources/channelHistory.js';
import type { PostgresNotify } from '../sources/PostgresNotify.js';
import type { StreamRoutes } from '../transports/sse/StreamRoutes.js';
import type { SseTransport } from '../transports/sse/SseTransport.js';
import type { Config } from '../core/config.js';
import type { Env, EnvField, StandardSchemaV1 } from '../core/env.js';
import { envSchema, parseEnv } from '../core/env.js';
import type { Logger } from '../core/logger.js';
import type { Publisher, PubSubSource } from '../core/message.js';
import type { MetricsRegistry } from '../core/metrics.js';
import type { Readiness } from '../core/readiness.js';
import type { SessionTransports } from '../core/session.js';

export type { Readiness } from '../core/readiness.js';

/** The shared parts a protocol composes. */
export interface ProtocolContext {
  /** The pub/sub source every protocol shares (one Redis subscriber connection). */
  readonly source: PubSubSource;
  /** Publishes to the same bus: Redis PUBLISH, or the embedded bus. */
  readonly publisher: Publisher | undefined;
  /** A Redis command connection, when the server runs on Redis. */
  readonly redis: RedisClient | undefined;
  /** Channel history: publishing with positions, and recovery on reconnect. */
  readonly history: ChannelHistory | undefined;
  /** Postgres LISTEN/NOTIFY on one connection, when DATABASE_URL is set. */
  readonly postgres: PostgresNotify | undefined;
  /** True on the embedded bus: protocols may feed it demo traffic. */
  readonly demo: boolean;
  readonly hub: Hub;
  /** The SSE streams table, answered on the bare socket where it can be. */
  readonly streams: StreamRoutes;
  readonly sse: SseTransport;
  /** Message endpoints: a WebSocket at a path, SockJS at `<path>/`. */
  readonly sessions: SessionTransports;
  /** The protocol's own HTTP routes (mounted before the 404 handler). */
  readonly router: Router;
  readonly metrics: MetricsRegistry;
  /** A child logger with the protocol's name. */
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
  /** The core configuration (CORS, keepalive, node name…). */
  readonly config: Config;
}

/** A started protocol. */
export interface ProtocolHandle {
  /** Whether it can serve now; absent means always. */
  ready?(): Readiness;
  /** Fields it adds to /admin/status.json and the status hash. */
  status?(): Readonly<Record<string, unknown>>;
  /** Stops it: its subscriptions, timers and connections of its own. */
  close?(): void | Promise<void>;
}

/** One field per variable of `C`, each reading that variable's value. */
type FieldsOf<C> = { readonly [K in keyof C]: EnvField<C[K]> };

export interface ProtocolModule<C = unknown> {
  /** Its name in `PROTOCOLS`, logs and status: lower case, `[a-z0-9_-]`. */
  readonly name: string;
  /**
   * Its environment variables, parsed from the environment into its configuration:
   * a record of fields (`{ ECHO_PATH: urlPath('/echo') }`), or a Standard Schema
   * of the environment (`envSchema(…)`, zod's `z.object(…)`…).
   */
  readonly config: StandardSchemaV1<unknown, C> | FieldsOf<C>;
  start(ctx: ProtocolContext, config: C): ProtocolHandle;
  /**
   * What it would serve to anyone with this configuration, as a sentence that
   * names what to set (`…without TOKEN_SECRET`), or undefined when it is
   * authenticated. Staging and production refuse to start it unless
   * PUBLIC_PROTOCOLS names it.
   */
  unauthenticated?(config: C): string | undefined;
}

/** A protocol module, typed by its configuration schema. */
export function defineProtocol<C>(module: ProtocolModule<C>): ProtocolModule<C> {
  if (!/^[a-z0-9_-]+$/.test(module.name)) {
    throw new Error(`a protocol's name is lower case [a-z0-9_-], not "${module.name}"`);
  }
  return module;
}

/** A protocol's configuration from the environment; throws a StreamerError naming a bad variable. */
export function protocolConfig<C>(module: ProtocolModule<C>, env: Env): C {
  const { config } = module;
  return parseEnv('~standard' in config ? config : envSchema<FieldsOf<C>, C>(config), env);
}
