// One user's stream, as the statuses it goes through: the user's channel set is
// read, each channel subscribed, and `ok` emitted once every subscription is
// live and its topic joined (held, with where the stream starts on it read);
// the joins are released right after `ok`, so what a channel missed and what
// arrived meanwhile come after it. Each message on a `user:*` channel reads
// the set again and the difference becomes subscribes and unsubscribes. The
// messages themselves go through the hub (`join`/`leave`), so a channel's
// message is encoded once for all its users; this only decides which topics
// the connection is in.
import { EMPTY, Observable, Subject, defer, filter, from, of, timeout, timer } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { PubSubSource } from '../../core/message.js';
import { diffSets } from '../../operators/diffSets.js';
import type { SetDiff } from '../../operators/diffSets.js';
import { mergeKeyed } from '../../operators/mergeKeyed.js';
import { readLatest } from '../../operators/readLatest.js';
import type { ChannelSetStore } from './channelSets.js';
import { isUserChannel } from './channelSets.js';
import type { StreamStatus } from './events.js';

export interface UserSessionOptions {
  readonly user: string;
  readonly store: ChannelSetStore;
  readonly source: PubSubSource;
  /**
   * Puts the user's connection in a channel's topic, held, and reads where it
   * starts there: resolves with what releases it (writes what it missed and
   * makes it live), or undefined when the hub refused it (a bound). A refused
   * or failed join ends the stream with `error`: after `ok`, every message of
   * the user's channels is delivered, or the stream ends. `leave` takes it out.
   */
  readonly join: (channel: string) => Promise<(() => void) | undefined>;
  readonly leave: (channel: string) => void;
  /** How long a set read, and the first set's subscriptions, may take. */
  readonly timeoutMs: number;
  /** Told of each read of the set after the first. */
  readonly refreshed?: () => void;
  readonly scheduler: SchedulerLike;
}

type LinkEvent = { readonly live: string } | { readonly refresh: true };
const REFRESH: LinkEvent = { refresh: true };

/**
 * `ok` once the first set's subscriptions are all live and joined (and their
 * joins released right after it), then at most one of
 * `failure` (no set: an unknown user), `disconnected` (the set became empty)
 * or `error` (Redis unreachable, or too slow), after which it completes.
 */
export function userSession(o: UserSessionOptions): Observable<StreamStatus> {
  return new Observable<StreamStatus>((subscriber) => {
    const refreshes = new Subject<void>();
    /** Before `ok`: the channels not yet live and joined, and the releases of those that are. */
    let waiting: Set<string> | undefined;
    let unjoined: Map<string, () => void> | undefined = new Map();
    /** The channels linked now. */
    const current = new Set<string>();
    const end = (status: StreamStatus) => {
      subscriber.next(status);
      subscriber.complete();
    };

    // The subscription (and SUBSCRIBE) is made before the connection joins the
    // channel's topic; it joins, held, once the subscription is live and, at the
    // start, is released once every channel is, right after `ok`: nothing
    // reaches it before `ok`, nothing after is lost.
    // Written out rather than composed (merge, map, take, finalize): a user holds
    // one of these per channel, and each operator would cost its subscribers.
    const link = (channel: string): Observable<LinkEvent> =>
      new Observable<LinkEvent>((linked) => {
        const refresh = isUserChannel(channel);
        current.add(channel);
        const messages = o.source.channel(channel).subscribe({
          next: () => {
            if (refresh) linked.next(REFRESH);
          },
          error: (err: unknown) => linked.error(err),
          complete: () => linked.complete(),
        });
        const live = (o.source.live?.(channel) ?? of(undefined)).subscribe({
          next: () => linked.next({ live: channel }),
          error: (err: unknown) => linked.error(err),
        });
        return () => {
          live.unsubscribe();
          messages.unsubscribe();
          current.delete(channel);
          waiting?.delete(channel);
          unjoined?.delete(channel);
          o.leave(channel);
          if (!subscriber.closed) settle();
        };
      });

    const settle = () => {
      if (!waiting || waiting.size > 0 || !unjoined) return;
      const ready = unjoined;
      waiting = undefined;
      unjoined = undefined;
      subscriber.next('ok');
      for (const release of ready.values()) release();
    };

    // Joined once live: a channel still in the set gets its release now after
    // `ok`, or kept for `ok` before it; one left meanwhile is left already.
    const joined = (channel: string, release: (() => void) | undefined) => {
      if (subscriber.closed || !current.has(channel)) return;
      if (!release) return end('error');
      if (!unjoined) return release();
      waiting?.delete(channel);
      unjoined.set(channel, release);
      settle();
    };

    const onDiff = (diff: SetDiff<string>) => {
      if (diff.current.size === 0) return end(diff.first ? 'failure' : 'disconnected');
      if (diff.first) waiting = new Set(diff.current);
      else if (waiting) for (const c of diff.added) waiting.add(c);
    };

    const read = () =>
      defer(() => from(o.store.members(o.user))).pipe(
        timeout({ first: o.timeoutMs, scheduler: o.scheduler }),
      );

    const channels = refreshes
      .pipe(
        readLatest(read),
        diffSets<string>(),
        filter((diff) => {
          onDiff(diff);
          return !subscriber.closed;
        }),
        mergeKeyed(link),
      )
      .subscribe({
        next: (event) => {
          if ('refresh' in event) {
            o.refreshed?.();
            refreshes.next();
            return;
          }
          const channel = event.live;
          o.join(channel).then(
            (release) => joined(channel, release),
            () => end('error'),
          );
        },
        error: () => end('error'),
      });

    // The first read (a Subject rather than startWith, whose concat costs each user a few subscribers).
    refreshes.next();

    // Redis going away: the stream says so and ends, and the client comes back for a fresh set.
    const outage = (o.source.readinessChanges?.() ?? EMPTY)
      .pipe(filter((r) => !r.ready))
      .subscribe(() => end('error'));
    // A first set whose subscriptions never all become live is an error, not a silent stream.
    const deadline = timer(o.timeoutMs, o.scheduler).subscribe(() => {
      if (unjoined) end('error');
    });

    return () => {
      deadline.unsubscribe();
      outage.unsubscribe();
      channels.unsubscribe();
    };
  });
}
