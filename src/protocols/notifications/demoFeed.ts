// Demo traffic for the notification streams on the embedded bus: a user `demo`
// in two of three rooms, a room message every few seconds, and now and then a
// change of rooms, announced on `user:demo` as an app server would.
import { asyncScheduler, interval, map, merge } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { Publication } from '../../core/message.js';
import type { MemoryChannelSets } from './channelSets.js';
import { userChannel } from './channelSets.js';

export const DEMO_USER = 'demo';
export const DEMO_ROOMS = ['room:1', 'room:2', 'room:3'] as const;

const LINES = [
  'Standup moved to 10:15',
  'New file: quarterly-report.pdf',
  'Build 1432 passed',
  'Ana joined the room',
  'Lunch order closes in 10 minutes',
  'Deploy to staging finished',
  'Comment on “Roadmap”: looks good to me',
  'Folder “Designs” was shared with you',
];

export interface NotificationsDemoOptions {
  readonly store: MemoryChannelSets;
  /** Time between room messages (ms). */
  readonly messageEveryMs?: number;
  /** Time between changes of the demo user's rooms (ms). */
  readonly changeEveryMs?: number;
  readonly scheduler?: SchedulerLike;
}

/** Puts the demo user in rooms 1 and 2; the publications to make, on subscribe. */
export function notificationsDemo(options: NotificationsDemoOptions): Observable<Publication> {
  const { store } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const own = userChannel(DEMO_USER);
  store.add(DEMO_USER, own, 'room:1', 'room:2');
  // Every room in turn, so some messages go to a room the user is not in.
  const messages = interval(options.messageEveryMs ?? 3_000, scheduler).pipe(
    map((n): Publication => {
      const room = DEMO_ROOMS[n % DEMO_ROOMS.length] as string;
      const text = LINES[n % LINES.length] as string;
      return { channel: room, payload: JSON.stringify({ type: 'message', room, text }) };
    }),
  );
  // Rooms 2 and 3 take turns: the set changes first, then the user's channel says so.
  const changes = interval(options.changeEveryMs ?? 20_000, scheduler).pipe(
    map((): Publication => {
      const [leaving, joining] = store.has(DEMO_USER, 'room:2')
        ? ['room:2', 'room:3']
        : ['room:3', 'room:2'];
      store.remove(DEMO_USER, leaving);
      store.add(DEMO_USER, joining);
      const rooms = DEMO_ROOMS.filter((r) => store.has(DEMO_USER, r));
      return {
        channel: own,
        payload: JSON.stringify({ type: 'channels', rooms, joined: joining, left: leaving }),
      };
    }),
  );
  return merge(messages, changes);
}
