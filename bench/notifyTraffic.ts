// The notification workload: users `u0…u<N-1>`, each with a personal channel
// `user:u<i>` and two of the shared rooms `room:0…room:<R-1>` (picked from the
// seed), and messages at a fixed rate spread over rooms and users. The feeder
// writes the sets to Redis and publishes the messages; the floor delivers the
// same messages to the same sockets in-process.
import type { NotifyLayout, TrafficPlan } from './ipc.js';
import { startClock, stamped } from './traffic.js';

export interface Notification {
  readonly channel: string;
  /** JSON ending in `"sent_at":<ms>`. */
  readonly payload: string;
}

export const userId = (i: number): string => `u${i}`;

/** A seeded generator, as the server's demo feed makes them (so every process derives the same layout). */
export type SeededRandom = (seed: number) => () => number;

/** Every user's channels, in user order: their own channel and two distinct rooms. */
export function channelSets(
  layout: NotifyLayout,
  seed: number,
  seededRandom: SeededRandom,
): string[][] {
  const random = seededRandom(seed ^ 0x5bd1e995);
  const sets: string[][] = [];
  for (let i = 0; i < layout.users; i++) {
    const first = Math.floor(random() * layout.rooms);
    let second = Math.floor(random() * (layout.rooms - 1));
    if (second >= first) second++;
    const rooms = layout.rooms > 1 ? [first, second] : [first];
    sets.push([`user:${userId(i)}`, ...rooms.map((r) => `room:${r}`)]);
  }
  return sets;
}

/** Starts the notifications at `plan.rate` per second; returns a function that stops them. */
export function startNotifyTraffic(
  plan: TrafficPlan,
  seededRandom: SeededRandom,
  onBatch: (messages: Notification[]) => void,
): () => void {
  const { users, rooms, roomShare } = plan.notify;
  const random = seededRandom(plan.seed);
  let n = 0;
  return startClock(plan, (due, sentAt) => {
    const batch: Notification[] = [];
    for (let i = 0; i < due; i++, n++) {
      if (random() < roomShare) {
        const room = Math.floor(random() * rooms);
        const json = `{"type":"message","room":"room:${room}","text":"update ${n} for everyone in the room"}`;
        batch.push({ channel: `room:${room}`, payload: stamped(json, sentAt) });
      } else {
        const user = userId(Math.floor(random() * users));
        const json = `{"type":"notice","user":"${user}","text":"update ${n} for you alone"}`;
        batch.push({ channel: `user:${user}`, payload: stamped(json, sentAt) });
      }
    }
    onBatch(batch);
  });
}
