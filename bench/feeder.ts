// The benchmark's producer, in its own process so its cost is not the server's:
// publishes the traffic to Redis as the real producer does (score update, then
// tweet), one pipeline per small batch.
import { Redis } from 'ioredis';
import { loadDemo } from './demo.js';
import { planFromArgv, send } from './ipc.js';
import type { FeederPlan, StatsRequest } from './ipc.js';
import { startTraffic } from './traffic.js';

const plan = planFromArgv<FeederPlan>();
const demo = await loadDemo(plan.dist);
const redis = new Redis(plan.redisUrl, { connectionName: 'rx-streamer-bench:feeder' });
let uses = 0;
let errors = 0;
redis.on('error', () => errors++);
await redis.ping();

const stop = startTraffic(demo, plan, (batch) => {
  const pipeline = redis.pipeline();
  for (const use of batch) {
    pipeline.publish(demo.SCORE_CHANNEL, use.id);
    pipeline.publish(use.tweetChannel, use.tweet);
  }
  uses += batch.length;
  pipeline.exec().then(
    (results) => {
      for (const [err] of results ?? []) if (err) errors++;
    },
    () => errors++,
  );
});

process.on('message', (message: StatsRequest) => {
  if (message.type === 'stats') send({ type: 'stats', stats: { uses, errors } });
  else {
    stop();
    redis.disconnect();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
