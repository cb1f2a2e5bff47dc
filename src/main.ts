#!/usr/bin/env node
// The rx-streamer service: reads its configuration, picks Redis or the embedded
// demo bus, serves, and shuts down cleanly on SIGTERM/SIGINT.
import { Redis } from 'ioredis';
import { loadConfig } from './config.js';
import type { Config } from './config.js';
import { createStreamer } from './app.js';
import { StreamerError } from './errors.js';
import { createLogger } from './logger.js';
import type { PubSubSource } from './message.js';
import { MemoryBus } from './sources/MemoryBus.js';
import { RedisPubSub } from './sources/RedisPubSub.js';
import { demoFeed } from './sources/demoFeed.js';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof StreamerError)) throw err;
    process.stderr.write(`rx-streamer: ${err.message}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
const logger = createLogger(config.logLevel, { node: config.nodeName });

let source: PubSubSource;
let stopSource: () => Promise<void>;
// Commands (the score snapshot) cannot share the subscriber connection.
let commands: Redis | undefined;
if (config.redisUrl) {
  const redis = new RedisPubSub(config.redisUrl, { graceMs: config.subscriptionGraceMs, logger });
  const cmd = new Redis(config.redisUrl, {
    connectionName: 'rx-streamer:commands',
    maxRetriesPerRequest: 1,
    commandTimeout: 2_000,
  });
  cmd.on('error', (err: Error) => logger.debug('redis command connection', { error: err.message }));
  commands = cmd;
  source = redis;
  stopSource = async () => {
    await redis.close();
    await cmd.quit().catch(() => cmd.disconnect());
  };
} else {
  const bus = new MemoryBus();
  const feeding = demoFeed({ rate: config.demoRate }).subscribe((p) =>
    bus.publish(p.channel, p.payload),
  );
  source = bus;
  stopSource = () => {
    feeding.unsubscribe();
    return Promise.resolve();
  };
}

const streamer = createStreamer({
  config,
  source,
  logger,
  keepScores: true,
  ...(commands ? { scoreStore: commands } : {}),
});
const address = await streamer.listen();
const shownHost =
  config.host && config.host !== '0.0.0.0' && config.host !== '::' ? config.host : 'localhost';
logger.info(`rx-streamer listening on http://${shownHost}:${address.port}/`, {
  port: address.port,
  source: config.redisUrl ? 'redis' : `embedded demo feed at ${config.demoRate} updates/s`,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const deadline = setTimeout(() => process.exit(1), 10_000);
  deadline.unref();
  await streamer.close();
  await stopSource();
  logger.end();
  process.exitCode = 0;
}
process.on('SIGTERM', (s) => void shutdown(s));
process.on('SIGINT', (s) => void shutdown(s));
