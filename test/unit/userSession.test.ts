// The per-user session on the in-process bus: when `ok` comes (only once every
// channel of the first set is live, and only then are the topics joined),
// refreshes turned into joins and leaves, and the ways a session ends.
import {
  BehaviorSubject,
  Observable,
  Subject,
  asyncScheduler,
  defer,
  finalize,
  of,
  take,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BusMessage, PubSubSource } from '../../src/core/message.js';
import type { Readiness } from '../../src/core/readiness.js';
import { MemoryChannelSets } from '../../src/protocols/notifications/channelSets.js';
import type { ChannelSetStore } from '../../src/protocols/notifications/channelSets.js';
import type { StreamStatus } from '../../src/protocols/notifications/events.js';
import { userSession } from '../../src/protocols/notifications/userSession.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { waitUntil } from '../support/sse.js';

/** The memory bus, with each channel's subscription made live when the test says. */
class GatedBus implements PubSubSource {
  readonly bus = new MemoryBus();
  readonly ready$ = new BehaviorSubject<Readiness>({ ready: true });
  private readonly gates = new Map<string, Subject<void>>();
  private readonly opened = new Set<string>();

  channel(name: string): Observable<BusMessage> {
    return this.bus.channel(name);
  }
  pattern(glob: string): Observable<BusMessage> {
    return this.bus.pattern(glob);
  }
  live(name: string): Observable<void> {
    return this.opened.has(name) ? of(undefined) : this.gate(name).pipe(take(1));
  }
  readinessChanges(): Observable<Readiness> {
    return defer(() => {
      this.watching++;
      return this.ready$.pipe(finalize(() => this.watching--));
    });
  }
  private watching = 0;
  /** Subscribers to readinessChanges() now. */
  readinessWatchers(): number {
    return this.watching;
  }
  /** From now on the channel's subscriptions are live. */
  open(name: string): void {
    this.opened.add(name);
    this.gate(name).next();
  }
  private gate(name: string): Subject<void> {
    let gate = this.gates.get(name);
    if (!gate) this.gates.set(name, (gate = new Subject()));
    return gate;
  }
}

function session(options: {
  source: PubSubSource;
  store: ChannelSetStore;
  timeoutMs?: number;
  /** Channels the hub refuses to join (a bound). */
  refuse?: readonly string[];
  /** How the session hears of a user channel's messages: by default, from the bus. */
  hear?: (channel: string, heard: () => void) => () => void;
}) {
  const log: string[] = [];
  const statuses: StreamStatus[] = [];
  let completed = false;
  let refreshes = 0;
  const subscription = userSession({
    user: 'u1',
    store: options.store,
    source: options.source,
    // Held at once, released (logged `join`) when the session says so.
    join: (c) => {
      log.push(`hold ${c}`);
      return Promise.resolve(
        (options.refuse ?? []).includes(c) ? undefined : () => log.push(`join ${c}`),
      );
    },
    leave: (c) => log.push(`leave ${c}`),
    // The hub's topic feed in the server; here a subscription of the test's own.
    hear:
      options.hear ??
      ((c, heard) => {
        const heeding = options.source.channel(c).subscribe(() => heard());
        return () => heeding.unsubscribe();
      }),
    timeoutMs: options.timeoutMs ?? 2_000,
    refreshed: () => refreshes++,
    scheduler: asyncScheduler,
  }).subscribe({
    next: (s) => {
      statuses.push(s);
      log.push(s);
    },
    complete: () => (completed = true),
  });
  return {
    log,
    statuses,
    get completed() {
      return completed;
    },
    get refreshes() {
      return refreshes;
    },
    subscription,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('userSession', () => {
  it('says ok only once every channel is live and held, and releases them all right after', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:1', 'room:2');
    const s = session({ source, store });
    await tick();
    // Subscribed (so the bus delivers), but nothing joined before ok.
    expect(source.bus.subscriptionCount()).toBe(3);
    source.open('room:1');
    source.open('user:u1');
    await tick();
    expect(s.log).toEqual(['hold room:1', 'hold user:u1']);
    source.open('room:2');
    await tick();
    expect(s.log).toEqual([
      'hold room:1',
      'hold user:u1',
      'hold room:2',
      'ok',
      'join room:1',
      'join user:u1',
      'join room:2',
    ]);
    // Joined, a room's topic holds its subscription (here nothing does): the
    // session keeps its own only on the user's channel, to read the set again.
    expect(source.bus.subscriptionCount()).toBe(1);
    s.subscription.unsubscribe();
  });

  it('says error, never ok, when the hub refuses to join a channel, and ends', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:full');
    const s = session({ source, store, refuse: ['room:full'] });
    for (const c of ['user:u1', 'room:full']) source.open(c);
    await waitUntil(() => s.completed, 2_000, 'the end');
    expect(s.statuses).toEqual(['error']);
  });

  it('says error when a channel added later cannot be joined', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1');
    const s = session({ source, store, refuse: ['room:full'] });
    source.open('user:u1');
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    store.add('u1', 'room:full');
    source.bus.publish('user:u1', 'joined a room');
    source.open('room:full');
    await waitUntil(() => s.completed, 2_000, 'the end');
    expect(s.statuses).toEqual(['ok', 'error']);
  });

  it('says failure for an unknown user (no set) and ends', async () => {
    const s = session({ source: new GatedBus(), store: new MemoryChannelSets() });
    await waitUntil(() => s.completed, 2_000, 'the end');
    expect(s.statuses).toEqual(['failure']);
  });

  it('reads the set again after a message on a user channel and applies the difference', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:1', 'room:2');
    const s = session({ source, store });
    for (const c of ['user:u1', 'room:1', 'room:2']) source.open(c);
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    s.log.length = 0;
    store.remove('u1', 'room:2');
    store.add('u1', 'room:3');
    // A room message does not make it read the set; the user's does.
    source.bus.publish('room:1', 'hello');
    await tick();
    expect(s.refreshes).toBe(0);
    source.bus.publish('user:u1', 'rights changed');
    await waitUntil(() => s.log.includes('leave room:2'), 2_000, 'room:2 left');
    expect(s.refreshes).toBe(1);
    // room:3 is joined once its subscription is live, not before.
    expect(s.log).toEqual(['leave room:2']);
    source.open('room:3');
    await waitUntil(() => s.log.includes('join room:3'), 2_000, 'room:3 joined');
    expect(s.log).toEqual(['leave room:2', 'hold room:3', 'join room:3']);
    expect(s.statuses).toEqual(['ok']);
    s.subscription.unsubscribe();
  });

  it('keeps no subscription of its own once joined: a user channel is heard of from its topic', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:1');
    const hearers = new Map<string, () => void>();
    const s = session({
      source,
      store,
      hear: (c, heard) => {
        hearers.set(c, heard);
        return () => hearers.delete(c);
      },
    });
    for (const c of ['user:u1', 'room:1']) source.open(c);
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    expect(source.bus.subscriptionCount()).toBe(0);
    expect([...hearers.keys()]).toEqual(['user:u1']);
    store.add('u1', 'room:2');
    source.open('room:2');
    hearers.get('user:u1')?.();
    await waitUntil(() => s.log.includes('join room:2'), 2_000, 'room:2 joined');
    expect(s.refreshes).toBe(1);
    s.subscription.unsubscribe();
    expect(hearers.size).toBe(0);
    expect(source.bus.subscriptionCount()).toBe(0);
  });

  it('reads the set once more for a burst of user-channel messages, never one read each', async () => {
    const source = new GatedBus();
    const sets = new MemoryChannelSets();
    sets.add('u1', 'user:u1');
    let reads = 0;
    const store: ChannelSetStore = {
      members: (user) => {
        reads++;
        return sets.members(user);
      },
    };
    const s = session({ source, store });
    source.open('user:u1');
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    expect(reads).toBe(1);
    sets.add('u1', 'room:1');
    source.open('room:1');
    for (let i = 0; i < 5; i++) source.bus.publish('user:u1', `change ${i}`);
    await waitUntil(() => s.log.includes('join room:1'), 2_000, 'room:1 joined');
    await tick();
    // The first message starts a read; the four during it share the one after it.
    expect(s.refreshes).toBe(5);
    expect(reads).toBe(3);
    s.subscription.unsubscribe();
  });

  it('says disconnected when the set becomes empty, and leaves every channel', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:1');
    const s = session({ source, store });
    source.open('user:u1');
    source.open('room:1');
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    store.remove('u1', 'user:u1', 'room:1');
    source.bus.publish('user:u1', 'bye');
    await waitUntil(() => s.completed, 2_000, 'the end');
    expect(s.statuses).toEqual(['ok', 'disconnected']);
    expect(s.log.filter((l) => l.startsWith('leave')).sort()).toEqual([
      'leave room:1',
      'leave user:u1',
    ]);
    expect(source.bus.subscriptionCount()).toBe(0);
  });

  it('says ok when a channel that was not yet live is removed from the set', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:stuck');
    const s = session({ source, store });
    source.open('user:u1');
    await tick();
    store.remove('u1', 'room:stuck');
    // Its own channel is live: a message there reads the set again.
    source.bus.publish('user:u1', 'changed');
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    expect(s.log).toEqual(['hold user:u1', 'leave room:stuck', 'ok', 'join user:u1']);
    s.subscription.unsubscribe();
  });

  it('says error when the subscriptions do not all become live in time', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:1');
    const s = session({ source, store, timeoutMs: 150 });
    source.open('user:u1');
    await waitUntil(() => s.completed, 2_000, 'the end');
    expect(s.statuses).toEqual(['error']);
    expect(source.bus.subscriptionCount()).toBe(0);
  });

  it('says error when the set cannot be read, or not in time', async () => {
    const failing = session({
      source: new GatedBus(),
      store: { members: () => Promise.reject(new Error('ECONNREFUSED')) },
    });
    const hanging = session({
      source: new GatedBus(),
      store: { members: () => new Promise<never>(() => {}) },
      timeoutMs: 150,
    });
    await waitUntil(() => failing.completed && hanging.completed, 2_000, 'both ended');
    expect(failing.statuses).toEqual(['error']);
    expect(hanging.statuses).toEqual(['error']);
  });

  it('says error when the source stops being ready, after ok or before', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1');
    const s = session({ source, store });
    source.open('user:u1');
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    source.ready$.next({ ready: false, reason: 'redis reconnecting' });
    expect(s.statuses).toEqual(['ok', 'error']);
    expect(s.completed).toBe(true);
    // A session started while the source is down ends at once.
    const late = session({ source, store });
    expect(late.statuses).toEqual(['error']);
    expect(source.bus.subscriptionCount()).toBe(0);
  });

  it('watches the source for outages once for all its sessions, and not after the last leaves', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1');
    source.open('user:u1');
    const many = Array.from({ length: 50 }, () => session({ source, store }));
    await waitUntil(() => many.every((s) => s.statuses.includes('ok')), 2_000, 'all ok');
    expect(source.readinessWatchers()).toBe(1);
    (many[0] as (typeof many)[number]).subscription.unsubscribe();
    expect(source.readinessWatchers()).toBe(1);
    source.ready$.next({ ready: false, reason: 'redis reconnecting' });
    expect(many.slice(1).every((s) => s.completed && s.statuses.join() === 'ok,error')).toBe(true);
    expect(source.readinessWatchers()).toBe(0);
    // Back up, a new session watches afresh.
    source.ready$.next({ ready: true });
    const next = session({ source, store });
    await waitUntil(() => next.statuses.includes('ok'), 2_000, 'ok again');
    expect(source.readinessWatchers()).toBe(1);
    next.subscription.unsubscribe();
    expect(source.readinessWatchers()).toBe(0);
  });

  it('on unsubscribe, drops every subscription and says nothing', async () => {
    const source = new GatedBus();
    const store = new MemoryChannelSets();
    store.add('u1', 'user:u1', 'room:1');
    const s = session({ source, store });
    source.open('user:u1');
    source.open('room:1');
    await waitUntil(() => s.statuses.includes('ok'), 2_000, 'ok');
    s.subscription.unsubscribe();
    expect(source.bus.subscriptionCount()).toBe(0);
    expect(s.statuses).toEqual(['ok']);
    expect(s.log.filter((l) => l.startsWith('leave')).length).toBe(2);
  });
});
