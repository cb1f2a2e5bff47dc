// One user's stream, as the statuses it goes through: the user's channel set is
// read, each channel subscribed, and `ok` emitted once every subscription is
// live and its topic joined (held, with where the stream starts on it read);
// the joins are released right after `ok`, so what a channel missed and what
// arrived meanwhile come after it. Each message on a `user:*` channel reads
// the set again and the difference becomes subscribes and unsubscribes. The
// messages themselves go through the hub (`join`/`leave`), so a channel's
// message is encoded once for all its users; this only decides which topics
// the connection is in.
//
// It is the composition readLatest → diffSets → mergeKeyed, written out as one
// object: a server holds one per user, and each operator of that pipeline, and
// each Observable wrapping a channel's link, cost every user a few subscribers
// and closures (about 10 KB of heap a user). Reads are coalesced as readLatest
// does (sharedAfter), and the difference is diffSets' own step (setDiff).
import { Observable } from 'rxjs';
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import type { PubSubSource } from '../../core/message.js';
import { sharedAfter } from '../../core/sharedAfter.js';
import { setDiff } from '../../operators/diffSets.js';
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
   * A joined topic holds the channel's subscription: the session keeps its own
   * only until then.
   */
  readonly join: (channel: string) => Promise<(() => void) | undefined>;
  /**
   * Tells the session of each message on one of its user channels, from the
   * moment it joins the channel's topic (whose feed has the messages anyway):
   * each makes it read the set again. Returns what stops telling it.
   */
  readonly hear: (channel: string, heard: () => void) => () => void;
  readonly leave: (channel: string) => void;
  /** How long a set read, and the first set's subscriptions, may take. */
  readonly timeoutMs: number;
  /** Told of each read of the set after the first. */
  readonly refreshed?: () => void;
  readonly scheduler: SchedulerLike;
}

/**
 * `ok` once the first set's subscriptions are all live and joined (and their
 * joins released right after it), then at most one of
 * `failure` (no set: an unknown user), `disconnected` (the set became empty)
 * or `error` (Redis unreachable, or too slow), after which it completes.
 */
export function userSession(o: UserSessionOptions): Observable<StreamStatus> {
  return new Observable<StreamStatus>((subscriber) => {
    const session = new UserSession(o, subscriber);
    session.start();
    return () => session.close();
  });
}

/**
 * A channel of the set: its subscription (until the topic holds one), until
 * live the wait, and on a user channel what stops hearing of its messages.
 */
interface Link {
  messages?: Subscription;
  live?: Subscription;
  unheard?: () => void;
}

const SET_READ_TIMED_OUT = 'the channel set was not read in time';

/**
 * A source's outages, told to every session of it through one subscription:
 * a subscriber each to the source's readiness cost every user a few hundred
 * bytes, and each one leaving searched the list of all of them.
 */
class Outages {
  private readonly watchers = new Set<() => void>();
  private subscription: Subscription | undefined;
  private ready = true;

  constructor(private readonly source: PubSubSource) {}

  /** Calls `onOutage` when the source stops being ready (at once if it is not); returns what stops watching. */
  watch(onOutage: () => void): () => void {
    this.subscription ??= this.source.readinessChanges?.().subscribe((readiness) => {
      this.ready = readiness.ready;
      if (!readiness.ready) for (const watcher of [...this.watchers]) watcher();
    });
    if (!this.ready) {
      onOutage();
      return () => undefined;
    }
    this.watchers.add(onOutage);
    return () => {
      this.watchers.delete(onOutage);
      if (this.watchers.size > 0) return;
      this.subscription?.unsubscribe();
      this.subscription = undefined;
      this.ready = true;
    };
  }
}

const outages = new WeakMap<PubSubSource, Outages>();

function outagesOf(source: PubSubSource): Outages {
  let watch = outages.get(source);
  if (!watch) outages.set(source, (watch = new Outages(source)));
  return watch;
}

class UserSession {
  /** The set as last read: what the next read is compared with. */
  private set: ReadonlySet<string> | undefined;
  /** The channels linked now. */
  private readonly links = new Map<string, Link>();
  /** Before `ok`: the channels not yet live and joined, and the releases of those that are. */
  private waiting: Set<string> | undefined;
  private unjoined: Map<string, () => void> | undefined = new Map();
  private stopWatching: (() => void) | undefined;
  private deadline: Subscription | undefined;
  /** Reads the set and applies the difference; a call made mid-read costs one more read. */
  private readonly read = sharedAfter(() => this.readAndApply());

  constructor(
    private readonly o: UserSessionOptions,
    private readonly subscriber: Subscriber<StreamStatus>,
  ) {}

  start(): void {
    this.refresh();
    // Redis going away: the stream says so and ends, and the client comes back for a fresh set.
    this.stopWatching = outagesOf(this.o.source).watch(() => this.end('error'));
    // A first set whose subscriptions never all become live is an error, not a silent stream.
    if (!this.closed) {
      this.deadline = this.o.scheduler.schedule(() => {
        if (this.unjoined) this.end('error');
      }, this.o.timeoutMs);
    }
  }

  /** Drops every subscription and leaves every topic; says nothing. */
  close(): void {
    this.deadline?.unsubscribe();
    this.stopWatching?.();
    for (const channel of [...this.links.keys()]) this.unlink(channel);
  }

  private get closed(): boolean {
    return this.subscriber.closed;
  }

  private end(status: StreamStatus): void {
    if (this.closed) return;
    this.subscriber.next(status);
    this.subscriber.complete();
  }

  private refresh(): void {
    this.read().catch(() => this.end('error'));
  }

  private async readAndApply(): Promise<void> {
    if (this.closed) return;
    const members = await this.members();
    if (!this.closed) this.apply(members);
  }

  /** The user's set, or a rejection when it cannot be read within the timeout. */
  private members(): Promise<readonly string[]> {
    return new Promise<readonly string[]>((resolve, reject) => {
      const timer = this.o.scheduler.schedule(
        () => reject(new Error(SET_READ_TIMED_OUT)),
        this.o.timeoutMs,
      );
      Promise.resolve()
        .then(() => this.o.store.members(this.o.user))
        .then(resolve, reject)
        .finally(() => timer.unsubscribe());
    });
  }

  private apply(members: readonly string[]): void {
    const diff = setDiff(this.set, members);
    if (!diff.first && diff.added.length === 0 && diff.removed.length === 0) return;
    this.set = diff.current;
    if (diff.current.size === 0) return this.end(diff.first ? 'failure' : 'disconnected');
    if (diff.first) this.waiting = new Set(diff.current);
    else if (this.waiting) for (const c of diff.added) this.waiting.add(c);
    // Removals first, so a channel both removed and added is linked afresh.
    for (const channel of diff.removed) this.unlink(channel);
    for (const channel of diff.added) {
      if (this.closed) return;
      this.link(channel);
    }
  }

  // The subscription (and SUBSCRIBE) is made before the connection joins the
  // channel's topic; it joins, held, once the subscription is live and, at the
  // start, is released once every channel is, right after `ok`: nothing
  // reaches it before `ok`, nothing after is lost.
  private link(channel: string): void {
    if (this.links.has(channel)) return;
    const link: Link = {};
    this.links.set(channel, link);
    const messages = this.o.source.channel(channel).subscribe({
      error: () => this.end('error'),
      complete: () => this.unlink(channel),
    });
    // Ended (or unlinked) while subscribing: nothing to keep.
    if (this.links.get(channel) !== link) return void messages.unsubscribe();
    link.messages = messages;
    const { source } = this.o;
    if (!source.live) return this.joinWhenLive(channel);
    const waiting = source.live(channel).subscribe({
      next: () => this.joinWhenLive(channel),
      error: () => this.end('error'),
    });
    if (this.links.get(channel) === link && !waiting.closed) link.live = waiting;
    else waiting.unsubscribe();
  }

  private unlink(channel: string): void {
    const link = this.links.get(channel);
    if (!link) return;
    this.links.delete(channel);
    link.live?.unsubscribe();
    link.messages?.unsubscribe();
    link.unheard?.();
    this.waiting?.delete(channel);
    this.unjoined?.delete(channel);
    this.o.leave(channel);
    if (!this.closed) this.settle();
  }

  private joinWhenLive(channel: string): void {
    const link = this.links.get(channel);
    // Heard from the join on: a message the topic gets while held is heard too.
    if (link && isUserChannel(channel) && !link.unheard) {
      link.unheard = this.o.hear(channel, () => {
        this.o.refreshed?.();
        this.refresh();
      });
    }
    this.o.join(channel).then(
      (release) => this.joined(channel, release),
      () => this.end('error'),
    );
  }

  // Joined once live: a channel still in the set gets its release now after
  // `ok`, or kept for `ok` before it; one left meanwhile is left already.
  private joined(channel: string, release: (() => void) | undefined): void {
    const link = this.links.get(channel);
    if (this.closed || !link) return;
    if (!release) return this.end('error');
    // The topic holds the subscription now; a user channel's messages are heard from it.
    link.messages?.unsubscribe();
    link.messages = undefined;
    if (!this.unjoined) return release();
    this.waiting?.delete(channel);
    this.unjoined.set(channel, release);
    this.settle();
  }

  private settle(): void {
    if (!this.waiting || this.waiting.size > 0 || !this.unjoined) return;
    const ready = this.unjoined;
    this.waiting = undefined;
    this.unjoined = undefined;
    this.deadline?.unsubscribe();
    this.deadline = undefined;
    this.subscriber.next('ok');
    for (const release of ready.values()) release();
  }
}
