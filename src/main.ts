#!/usr/bin/env node
// The rx-streamer service: reads its configuration, picks Redis or the embedded
// demo bus, serves, and shuts down cleanly on SIGTERM/SIGINT.
import cluster from 'node:cluster';
import { loadConfig } from './core/config.js';
import type { Config } from './core/config.js';
import { serveFromPrimary, superviseWorkers, workerId } from './cluster.js';
import { StreamerError } from './core/errors.js';
import { listenProblem } from './core/listenProblem.js';
import { logListening } from './transports/http/listen.js';
import { createLogger } from './core/logger.js';
import type { PubSubSource } from './core/message.js';
import { loadProtocols } from './protocols/index.js';
import type { SelectedProtocol } from './protocols/startProtocols.js';
import { MemoryBus } from './sources/MemoryBus.js';
import { RedisPubSub } from './sources/RedisPubSub.js';
import { connectRedis, redisTarget, shardedChannels } from './sources/redisClient.js';
import type { RedisClient } from './sources/redisClient.js';
import { shardedPublisher } from './sources/shardedPublisher.js';
import type { Streamer } from './Streamer.js';
import { wireStreamer } from './wireStreamer.js';

/** A bad variable stops the process with one line, before anything starts. */
function exitOnConfigError(err: unknown): never {
  if (!(err instanceof StreamerError)) throw err;
  process.stderr.write(`rx-streamer: ${err.message}\n`);
  process.exit(1);
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    exitOnConfigError(err);
  }
}

const configured = configOrExit();
const worker = workerId();
// Each worker is a node of its own in status reports and the status hash.
const config: Config =
  worker > 0
    ? Object.freeze({ ...configured, nodeName: `${configured.nodeName}-w${worker}` })
    : configured;
const logger = createLogger(config.logLevel, { node: config.nodeName });

if (config.workers > 1 && cluster.isPrimary) {
  if (!redisTarget(config)) {
    logger.warn('WORKERS > 1 without REDIS_URL: each worker runs its own demo feed');
  }
  await superviseWorkers({
    workers: config.workers,
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    port: config.port,
    host: config.host,
    backlog: config.listenBacklog,
  });
} else {
  await serve();
}

async function serve(): Promise<void> {
  // Only the protocol modules PROTOCOLS names are imported, each with its own
  // variables checked before any connection is made.
  let protocols: SelectedProtocol[];
  try {
    protocols = await loadProtocols(config, { emojitrack: { keepScores: true } });
  } catch (err) {
    exitOnConfigError(err);
  }

  let source: PubSubSource;
  let stopSource: () => Promise<void>;
  // Commands (the score snapshot, key look-ups) cannot share the subscriber connection.
  let commands: RedisClient | undefined;
  const target = redisTarget(config);
  if (target) {
    const redis = new RedisPubSub(target, {
      graceMs: config.subscriptionGraceMs,
      shardedChannels: config.shardedChannels,
      logger,
    });
    const cmd = connectRedis(target, {
      connectionName: 'rx-streamer:commands',
      maxRetriesPerRequest: 1,
      commandTimeout: 2_000,
    });
    cmd.on('error', (err: Error) =>
      logger.debug('redis command connection', { error: err.message }),
    );
    commands = cmd;
    source = redis;
    stopSource = async () => {
      await redis.close();
      await cmd.quit().catch(() => cmd.disconnect());
    };
  } else {
    // The embedded bus: each protocol feeds it demo traffic of its own.
    source = new MemoryBus();
    stopSource = () => Promise.resolve();
  }

  // Postgres LISTEN/NOTIFY on one connection of its own, for the pub/sub monitors;
  // pg is not even loaded without DATABASE_URL.
  const postgres = config.databaseUrl
    ? new (await import('./sources/PostgresNotify.js')).PostgresNotify(config.databaseUrl, {
        logger,
      })
    : undefined;
  const stopRedis = stopSource;
  stopSource = async () => {
    await Promise.all([stopRedis(), postgres?.close()]);
  };

  let streamer: Streamer;
  try {
    streamer = wireStreamer({
      config,
      source,
      logger,
      demo: !target,
      protocols,
      ...(commands
        ? {
            redis: commands,
            publisher: shardedPublisher(commands, shardedChannels(config.shardedChannels)),
          }
        : {}),
      ...(postgres ? { postgres } : {}),
    });
  } catch (err) {
    if (!(err instanceof StreamerError)) throw err;
    // A protocol that refuses to start stops the process as a bad variable does,
    // once the connections made for it are closed.
    process.stderr.write(`rx-streamer: ${err.message}\n`);
    await stopSource();
    process.exit(1);
  }
  // A worker serves what the primary's socket accepted (see cluster.ts).
  let address: { readonly port: number };
  try {
    address = cluster.isWorker
      ? await serveFromPrimary(streamer.server, config)
      : await streamer.listen();
  } catch (err) {
    // A busy port or a bad HOST: one line, as for a bad variable.
    const problem = listenProblem(err, config);
    if (problem === undefined) throw err;
    process.stderr.write(`rx-streamer: ${problem}\n`);
    await bounded(stopSource(), 2_000);
    process.exit(1);
  }
  logListening(logger, config.host, address.port, {
    source: config.redisCluster
      ? 'redis cluster'
      : config.redisUrl
        ? 'redis'
        : 'embedded bus with demo feeds',
    protocols: [...streamer.protocols.keys()],
  });

  /** Resolves when `work` does or after `ms`, whichever is first: no step may hold up the exit. */
  function bounded(work: Promise<unknown>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      void work
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(timer);
          resolve();
        });
    });
  }

  function flushLogs(): Promise<void> {
    const finished = new Promise<void>((resolve) => logger.once('finish', () => resolve()));
    logger.end();
    return bounded(finished, 1_000);
  }

  let stopping = false;
  async function shutdown(signal: NodeJS.Signals): Promise<void> {
    if (stopping) {
      // A worker hears Ctrl-C from the terminal and again from its primary: not "now".
      if (worker > 0) return;
      // A second Ctrl-C means "now".
      process.stderr.write(`rx-streamer: ${signal} again, exiting at once\n`);
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    const clients = streamer.hub.clientCount();
    logger.info('shutting down', { signal, clients, timeoutMs: config.shutdownTimeoutMs });
    const deadline = setTimeout(() => {
      process.stderr.write(
        `rx-streamer: shutdown took over ${config.shutdownTimeoutMs} ms (SHUTDOWN_TIMEOUT_MS); exiting anyway\n`,
      );
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // Not ready any more, a retry line to every SSE client, the server closed,
    // statsd flushed and this node's status entry removed…
    await streamer.close();
    // …then Redis unsubscribed and quit (bounded: a Redis that is down never answers QUIT).
    await bounded(stopSource(), 2_000);
    logger.info('shut down', { signal, clients, durationMs: Date.now() - started });
    await flushLogs();
    process.exit(0);
  }
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}
