// The benchmark's producer, in its own process so its cost is not the server's:
// publishes the traffic to Redis as a real producer does, one pipeline per small
// batch. Emojitrack: a score update, then a tweet, per use. Notifications: the
// users' channel sets first (SADD, before any client connects), then messages
// on rooms and personal channels. Pub/sub: messages on the channels, for
// rx-streamer as plain PUBLISH (or, on recovery and publish, by the path the
// plan names: see publishPaths.ts), for the Socket.IO peer through its emitter.
// Site streams: entries added to the queue's stream (XADD), with bursts on
// request, and a pause and a resume so the queue can be seen drained. On a
// Redis Cluster (pubsub only), messages go out as the server publishes them.
import { Emitter } from '@socket.io/redis-emitter';
import { Cluster, Redis } from 'ioredis';
import { loadDemo } from './demo.js';
import { planFromArgv, send } from './ipc.js';
import type { FeederControl, FeederPlan, StatsRequest } from './ipc.js';
import { channelSets, startNotifyTraffic, userId } from './notifyTraffic.js';
import { openPublisher } from './publishPaths.js';
import type { Publisher } from './publishPaths.js';
import { startPubsubTraffic, startSiteTraffic } from './wsTraffic.js';
import type { SiteMessage } from './wsTraffic.js';
import { startTraffic } from './traffic.js';

const plan = planFromArgv<FeederPlan>();
const connectionName = 'rx-streamer-bench:feeder';
// On a cluster each command goes out alone, auto-pipelined per node: a pipeline
// may hold only one slot's keys, and SPUBLISH's channel is a key.
const redis =
  'url' in plan.redis
    ? new Redis(plan.redis.url, { connectionName })
    : new Cluster(plan.redis.seeds.split(','), {
        enableAutoPipelining: true,
        redisOptions: { connectionName },
      });
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

/** Each message an entry of the site-streams layout: `site`, `topic`, `data` (JSON text). */
function enqueue(batch: readonly SiteMessage[]): void {
  sent += batch.length;
  const pipeline = redis.pipeline();
  for (const m of batch)
    pipeline.xadd(plan.datastream.key, '*', 'site', m.site, 'topic', m.topic, 'data', m.data);
  pipeline.exec().then(
    (results) => {
      for (const [err] of results ?? []) if (err) errors++;
    },
    () => errors++,
  );
}

/** The clocks running now: the steady traffic, and a burst while one lasts. */
const running = new Set<() => void>();
/** Pub/sub traffic's publisher, opened once (its connections outlive a pause). */
let publisher: Publisher | undefined;

function burst(rate: number, seconds: number): void {
  const stop = startSiteTraffic(plan, rate, enqueue, 1_000_000_000);
  running.add(stop);
  setTimeout(() => {
    stop();
    running.delete(stop);
  }, seconds * 1000);
}

async function start(): Promise<() => void> {
  const demo = await loadDemo(plan.dist);
  if (plan.workload === 'datastream') return startSiteTraffic(plan, plan.rate, enqueue);
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
  if (plan.workload === 'pubsub' && plan.publishPath === undefined && redis instanceof Redis) {
    // Outside publishers feed pub/sub channel C as the Redis channel pubsub:C.
    // (On a cluster, the plain path below publishes as the server does.)
    return startPubsubTraffic(plan, (batch) => {
      sent += batch.length;
      publish(batch.map((m) => [`pubsub:${m.channel}`, m.payload] as const));
    });
  }
  if (plan.workload === 'pubsub' || plan.workload === 'recovery' || plan.workload === 'publish') {
    publisher ??= await openPublisher(plan, redis);
    const open = publisher;
    return startPubsubTraffic(plan, (batch) => {
      sent += batch.length;
      open.publish(batch);
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

running.add(await start());
const stopAll = () => {
  for (const stop of running) stop();
  running.clear();
};
process.on('message', (message: StatsRequest | FeederControl) => {
  if (message.type === 'stats') {
    const paths = publisher?.stats();
    send({
      type: 'stats',
      stats: { ...paths, sent, errors: errors + (paths?.errors ?? 0) },
    });
  } else if (message.type === 'burst') burst(message.rate, message.seconds);
  else if (message.type === 'pause') stopAll();
  else if (message.type === 'resume') void start().then((stop) => running.add(stop));
  else {
    stopAll();
    publisher?.close();
    redis.disconnect();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
