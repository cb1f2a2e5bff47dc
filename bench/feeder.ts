// The benchmark's producer, in its own process so its cost is not the server's:
// publishes the traffic to Redis as a real producer does, one pipeline per small
// batch. Emojitrack: a score update, then a tweet, per use. Notifications: the
// users' channel sets first (SADD, before any client connects), then messages
// on rooms and personal channels. Pub/sub: messages on the channels, for
// rx-streamer as plain PUBLISH, for the Socket.IO peer through its emitter.
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { loadDemo } from './demo.js';
import { planFromArgv, send } from './ipc.js';
import type { FeederPlan, StatsRequest } from './ipc.js';
import { channelSets, startNotifyTraffic, userId } from './notifyTraffic.js';
import { startPubsubTraffic } from './pubsubTraffic.js';
import { startTraffic } from './traffic.js';

const plan = planFromArgv<FeederPlan>();
const redis = new Redis(plan.redisUrl, { connectionName: 'rx-streamer-bench:feeder' });
let sent = 0;
let errors = 0;
redis.on('error', () => errors++);
await redis.ping();

function publish(messages: readonly (readonly [channel: string, payload: string])[]): void {
  const pipeline = redis.pipeline();
  for (const [channel, payload] of messages) pipeline.publish(channel, payload);
  pipeline.exec().then(
    (results) => {
      for (const [err] of results ?? []) if (err) errors++;
    },
    () => errors++,
  );
}

async function start(): Promise<() => void> {
  const demo = await loadDemo(plan.dist);
  if (plan.workload === 'pubsub' && plan.socketIo) {
    // Socket.IO's outside publisher: one room broadcast per message, through Redis.
    const emitter = new Emitter(redis);
    return startPubsubTraffic(plan, (batch) => {
      sent += batch.length;
      for (const m of batch)
        emitter
          .to(m.channel)
          .emit('message', { channel: m.channel, message: JSON.parse(m.payload) as unknown });
    });
  }
  if (plan.workload === 'pubsub') {
    // Outside publishers feed pub/sub channel C as the Redis channel pubsub:C.
    return startPubsubTraffic(plan, (batch) => {
      sent += batch.length;
      publish(batch.map((m) => [`pubsub:${m.channel}`, m.payload] as const));
    });
  }
  if (plan.workload === 'notifications') {
    const pipeline = redis.pipeline();
    channelSets(plan.notify, plan.seed, demo.seededRandom).forEach((channels, i) =>
      pipeline.sadd(`user:${userId(i)}:channels`, ...channels),
    );
    await pipeline.exec();
    return startNotifyTraffic(plan, demo.seededRandom, (batch) => {
      sent += batch.length;
      publish(batch.map((m) => [m.channel, m.payload] as const));
    });
  }
  return startTraffic(demo, plan, (batch) => {
    sent += batch.length;
    publish(
      batch.flatMap((use) => [
        [demo.SCORE_CHANNEL, use.id] as const,
        [use.tweetChannel, use.tweet] as const,
      ]),
    );
  });
}

const stop = await start();
process.on('message', (message: StatsRequest) => {
  if (message.type === 'stats') send({ type: 'stats', stats: { sent, errors } });
  else {
    stop();
    redis.disconnect();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
