// The pub/sub workload's messages: `--rate` a second over the channels
// `bench.0…bench.<N-1>` in turn, each JSON ending in `"sent_at"`. The feeder
// publishes them to Redis (`pubsub:<channel>`); the floor sends them itself.
import type { TrafficPlan } from './ipc.js';
import { startClock, stamped } from './traffic.js';

export interface PubsubMessage {
  readonly channel: string;
  /** JSON ending in `"sent_at":<ms>`. */
  readonly payload: string;
}

export function startPubsubTraffic(
  plan: TrafficPlan,
  onBatch: (messages: PubsubMessage[]) => void,
): () => void {
  let n = 0;
  return startClock(plan, (due, sentAt) => {
    const batch: PubsubMessage[] = [];
    for (let i = 0; i < due; i++, n++) {
      const json = `{"n":${n},"text":"message ${n} for everyone on the channel"}`;
      batch.push({ channel: `bench.${n % plan.pubsub.channels}`, payload: stamped(json, sentAt) });
    }
    onBatch(batch);
  });
}
