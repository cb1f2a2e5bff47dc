#!/usr/bin/env node
// Publishes one message with history, as POST /api/publish and publish() do, for
// trying recovery by hand or from a shell script: the position on stdout's last line.
// On the server's Redis or Redis Cluster, a sharded channel SPUBLISHed as the server does.
//   npm run publish:message -- --channel room:1 --data '"hi"' [--redis URL] [--size N] [--ttl S]
import { publish, publishChannelProblem } from '../sources/publishWithHistory.js';
import { connectRedis, shardedChannels } from '../sources/redisClient.js';
import { commandLine, redisTargetOf, serverConfig } from './commandLine.js';
import type { Fail } from './commandLine.js';

const USAGE = `usage: npm run publish:message -- --channel C --data JSON [--redis URL] [--size N] [--ttl S]
  --channel  the Redis channel (room:1 reaches notification streams, pubsub:chat pub/sub channel chat)
  --data     the message as JSON: a JSON string is published as the string itself ('"hi"'),
             any other JSON as its JSON text ('{"text":"hi"}')
  --redis    Redis URL (default REDIS_URL, or the cluster of REDIS_CLUSTER_NODES,
             else redis://127.0.0.1:6379)
  --size     messages kept in the channel's history (default HISTORY_SIZE, else 100)
  --ttl      seconds the history is kept after the last publish (default HISTORY_TTL_S, else 300)
  a channel in REDIS_SHARDED_CHANNELS is published with SPUBLISH, as the server does
  prints {"channel","epoch","offset"} of the message on its last line`;

/** The server's bounds on HISTORY_SIZE and HISTORY_TTL_S (core/config.ts). */
const MAX_SIZE = 100_000;
const MAX_TTL_S = 30 * 86_400;

const cli = commandLine('publish', USAGE, {
  channel: { type: 'string' },
  data: { type: 'string' },
  redis: { type: 'string' },
  size: { type: 'string' },
  ttl: { type: 'string' },
});
const args = cli.values;
// Annotated, so that TypeScript knows no code runs after a call.
const fail: Fail = cli.fail;

// The server's own environment, so the defaults and bounds are the server's and a
// bad value is refused with the server's message.
const config = serverConfig(fail, false);

function whole(name: 'size' | 'ttl', max: number, fallback: number): number {
  const text = args[name];
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    fail(`--${name} must be a whole number from 1 to ${max}, got "${text}"`);
  return n;
}

const channel = args.channel;
if (channel === undefined) fail('--channel is required');
// The channels POST /api/publish accepts, so both refuse the same names.
const problem = publishChannelProblem(channel);
if (problem) fail(`--${problem}, got ${JSON.stringify(channel)}`);
if (args.data === undefined) fail('--data is required (any JSON; a string in double quotes)');
let data: unknown;
try {
  data = JSON.parse(args.data);
} catch {
  fail(`--data must be JSON (a string in double quotes: '"hi"'), got ${JSON.stringify(args.data)}`);
}
const target = redisTargetOf(args.redis, config);
// A password in the URL is never shown, not even in an error.
const shown =
  typeof target === 'string'
    ? target.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@')
    : target.cluster.map((n) => `${n.host}:${n.port}`).join(',');
if (typeof target === 'string' && !/^rediss?:\/\/./.test(target))
  fail(`--redis must be a URL starting with redis:// or rediss://, got ${JSON.stringify(shown)}`);
const size = whole('size', MAX_SIZE, config.historySize);
const ttlS = whole('ttl', MAX_TTL_S, config.historyTtlS);
// The largest message POST /api/publish takes (WS_MAX_FRAME_BYTES): refused here as there.
const payloadBytes = Buffer.byteLength(typeof data === 'string' ? data : JSON.stringify(data));
const maxBytes = config.wsMaxFrameBytes;
if (payloadBytes > maxBytes)
  fail(`--data has ${payloadBytes} bytes: a message has at most ${maxBytes} (WS_MAX_FRAME_BYTES)`);

// A command, not a service: one attempt, bounded in time, and a one-line error.
// (On a Cluster, a MOVED or a failover in progress is still followed.)
const redis = connectRedis(
  target,
  {
    lazyConnect: true,
    connectTimeout: 5_000,
    commandTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectionName: 'rx-streamer:publish',
  },
  { lazyConnect: true },
);
// ioredis rejects with "Connection is closed."; the socket's own error says why.
// A Cluster's rejection says it best ("None of startup nodes is available").
let cause: Error | undefined;
redis.on('error', (err: Error) => {
  if (typeof target === 'string') cause ??= err;
});
try {
  await redis.connect();
  const sharded = shardedChannels(config.shardedChannels);
  const position = await publish(redis, channel, data, { size, ttlS, sharded });
  process.stdout.write(`${JSON.stringify({ channel, ...position })}\n`);
} catch (err) {
  process.stderr.write(`publish: ${shown}: ${(cause ?? (err as Error)).message}\n`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
