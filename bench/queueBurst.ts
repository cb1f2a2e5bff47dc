// The site streams workload's queue figures, read from Redis itself so the
// server and the floor are judged alike: the consumer lag (entries added but
// not yet read, plus entries read but not yet acknowledged, of the stream's
// group), and the burst after the window: from a quiet queue, extra traffic
// for a while, the lag sampled until it is back down, then quiet again so every
// delivery can be counted against what was sent.
import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { FeederControl } from './ipc.js';
import type { ClientProbe } from './measure.js';

/** Lag at or under this many entries counts as caught up while traffic still flows. */
const CAUGHT_UP = 10;
const SAMPLE_MS = 100;
const DRAIN_TIMEOUT_MS = 120_000;

/** Unread plus unacknowledged entries of the stream's (busiest) consumer group. */
export async function queueLag(redis: Redis, key: string): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
  let worst = 0;
  for (const group of groups) {
    const field = (name: string) => group[group.indexOf(name) + 1];
    const pending = Number(field('pending'));
    let unread = field('lag') as number | null;
    // Redis cannot always say (after deletions): count what follows the group's last read.
    if (unread === null) {
      const after = `(${String(field('last-delivered-id'))}`;
      unread = ((await redis.xrange(key, after, '+', 'COUNT', 1_000_000)) as unknown[]).length;
    }
    worst = Math.max(worst, pending + unread);
  }
  return worst;
}

export interface BurstPlan {
  readonly key: string;
  /** Messages a second added to the steady traffic during the burst. */
  readonly extraRate: number;
  readonly seconds: number;
  /** Clients each message reaches (clients per site). */
  readonly perMessage: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pauses the feeder and waits for the queue to be empty and the last frames to land. */
async function quiesce(redis: Redis, feeder: ChildProcess, key: string): Promise<number> {
  feeder.send({ type: 'pause' } satisfies FeederControl);
  let lag = await queueLag(redis, key);
  for (let waited = 0; lag > 0 && waited < DRAIN_TIMEOUT_MS; waited += SAMPLE_MS) {
    await sleep(SAMPLE_MS);
    lag = await queueLag(redis, key);
  }
  await sleep(500);
  return lag;
}

/**
 * Runs the burst between two quiet points (the feeder paused, the queue empty),
 * so every message sent in between must be delivered to every client of its
 * site: returns the peak lag, how long after the burst ended the lag was caught
 * up again, the lag once the feeder paused at the end, the burst's latency, and
 * the deliveries against the messages sent times the clients each reaches.
 */
export async function burstAndDrain(
  redis: Redis,
  feeder: ChildProcess,
  sent: () => Promise<number>,
  clients: ClientProbe,
  plan: BurstPlan,
): Promise<Record<string, number>> {
  const progress = (text: string) => process.stderr.write(`  ${text}\n`);
  const lagAtStart = await quiesce(redis, feeder, plan.key);
  const events0 = await clients.events(true);
  const sent0 = await sent();
  progress(`burst: ${plan.extraRate} more msgs/s for ${plan.seconds} s`);
  feeder.send({ type: 'resume' } satisfies FeederControl);
  feeder.send({
    type: 'burst',
    rate: plan.extraRate,
    seconds: plan.seconds,
  } satisfies FeederControl);
  const started = performance.now();
  const burstEnd = started + plan.seconds * 1000;
  let peakLag = 0;
  let caughtUpAt: number | undefined;
  for (;;) {
    await sleep(SAMPLE_MS);
    const lag = await queueLag(redis, plan.key);
    peakLag = Math.max(peakLag, lag);
    const now = performance.now();
    if (now < burstEnd) continue;
    if (lag <= CAUGHT_UP) {
      caughtUpAt = now;
      break;
    }
    if (now > burstEnd + DRAIN_TIMEOUT_MS) break;
  }
  const latency = await clients.latency();
  const lagAfterPause = await quiesce(redis, feeder, plan.key);
  const expected = ((await sent()) - sent0) * plan.perMessage;
  const delivered = (await clients.events(false)) - events0;
  return {
    extraRate: plan.extraRate,
    seconds: plan.seconds,
    lagAtStart,
    peakLag,
    caughtUpS: caughtUpAt === undefined ? NaN : Math.max(0, caughtUpAt - burstEnd) / 1000,
    lagAfterPause,
    latencyP50: latency.p50,
    latencyP99: latency.p99,
    latencyMax: latency.max,
    expected,
    delivered,
    lost: expected - delivered,
  };
}
