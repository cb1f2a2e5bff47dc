// The WebSocket workloads' messages. Pub/sub: `--rate` a second over the
// channels `bench.0…bench.<N-1>` in turn, each JSON ending in `"sent_at"`; the
// feeder publishes them to Redis (`pubsub:<channel>`), the floor sends them
// itself. Site streams: the same over the sites `site0…site<N-1>`, as the
// `{site, topic, data}` entries the feeder adds to the queue.
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

export interface SiteMessage {
  readonly site: string;
  readonly topic: string;
  /** JSON ending in `"sent_at":<ms>`. */
  readonly data: string;
}

/** Site messages at `rate` a second (the plan's, or a burst's), numbered from `first`. */
export function startSiteTraffic(
  plan: TrafficPlan,
  rate: number,
  onBatch: (messages: SiteMessage[]) => void,
  first = 0,
): () => void {
  let n = first;
  return startClock({ rate, tickMs: plan.tickMs }, (due, sentAt) => {
    const batch: SiteMessage[] = [];
    for (let i = 0; i < due; i++, n++) {
      const data = `{"n":${n},"reading":"a site's reading number ${n}"}`;
      batch.push({
        site: `site${n % plan.datastream.sites}`,
        topic: 'bench',
        data: stamped(data, sentAt),
      });
    }
    onBatch(batch);
  });
}
