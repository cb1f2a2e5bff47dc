// The memory script's view of the burst from Redis's side, so nothing polls the
// server while it is measured: the server's subscriptions before the burst, and
// its subscriber connection's output buffer after it (empty: caught up).
import type { Redis } from 'ioredis';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * No output-buffer limit on pub/sub connections: Redis's default (32 MB, or 8 MB
 * for 60 s) cuts a subscriber that lags a burst off, so the server would lose a
 * varying share of the burst (PUBLISH answers 0 until it has resubscribed).
 */
export async function liftPubsubLimit(redis: Redis): Promise<void> {
  await redis.config('SET', 'client-output-buffer-limit', 'pubsub 0 0 0');
}

/** Waits until the server has subscribed to `channel` and to a pattern (the detail routes'). */
export async function waitSubscribed(redis: Redis, channel: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [, channels] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    const patterns = Number(await redis.pubsub('NUMPAT'));
    if (channels > 0 && patterns > 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `the server did not subscribe within 10 s (${channel}: ${channels} subscribers, ${patterns} patterns)`,
      );
    await sleep(50);
  }
}

/** Bytes Redis holds for its subscriber connections, not yet written to them. */
async function pendingForSubscribers(redis: Redis): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  let pending = 0;
  for (const line of list.split('\n')) {
    const field = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? 0);
    if (field('sub') + field('psub') > 0) pending += field('omem');
  }
  return pending;
}

/** Waits until Redis has handed the server everything published; the milliseconds it took. */
export async function waitDrained(redis: Redis, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  while ((await pendingForSubscribers(redis)) > 0) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`Redis still held output for the server after ${timeoutMs} ms`);
    await sleep(20);
  }
  return performance.now() - started;
}
