// The hub on its own, with in-memory connections whose every write is recorded:
// feeds of the three kinds and their lifecycles (errors and completions included),
// encoding once per turn, connections in several topics, the writer's slices and
// keepalives, maximum ages and slow clients.
import { Writable } from 'node:stream';
import { NEVER, Observable, Subject, defer, finalize, groupBy } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import winston from 'winston';
import { MetricsRegistry } from '../../src/core/metrics.js';
import { Connection } from '../../src/fanout/Connection.js';
import type { Framing } from '../../src/fanout/framing.js';
import { Hub } from '../../src/fanout/Hub.js';
import type { HubOptions } from '../../src/fanout/Hub.js';
import { SSE_PLAIN, numberedEvents } from '../../src/transports/sse/sseFraming.js';

const TEXT: Framing = {
  name: 'text',
  encoding: 'text',
  frame: (parts) => Buffer.concat([Buffer.from('['), ...parts, Buffer.from(']')]),
  keepalive: Buffer.from('.'),
};

/** A sink that records what it was written; `stalled` keeps every write unsent. */
class Recorder extends Writable {
  readonly chunks: string[] = [];
  stalled = false;
  private held: (() => void)[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    if (this.stalled) this.held.push(done);
    else done();
  }
}

class TestConnection extends Connection {
  readonly recorder: Recorder;
  ended: boolean | undefined;
  constructor(name = 'c', framing: Framing = TEXT) {
    const recorder = new Recorder();
    super(
      {
        requestPath: `/${name}`,
        namespace: name,
        createdAt: Date.now(),
        clientIp: '127.0.0.1',
        userAgent: '',
      },
      framing,
      recorder,
    );
    this.recorder = recorder;
  }
  get text(): string {
    return this.recorder.chunks.join('');
  }
  end(goingAway = false): void {
    this.ended = goingAway;
    this.finished();
  }
  destroy(): void {
    this.recorder.destroy();
    this.finished();
  }
}

const turn = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (m: string) => Buffer.from(m);

let hub: Hub;
afterEach(() => hub.close());

function newHub(options: HubOptions = {}): Hub {
  hub = new Hub({ feedRetryMs: 20, ...options });
  return hub;
}

function open(family: string, ...topics: string[]): TestConnection {
  const c = new TestConnection();
  hub.attach(c);
  for (const t of topics.length > 0 ? topics : ['']) hub.join(c, family, t);
  return c;
}

describe('a shared feed', () => {
  it('is subscribed while the family has clients, and encoded once per turn for all of them', async () => {
    newHub();
    const feed = new Subject<string>();
    let encoded = 0;
    hub.addFamily('f', { feed, encode: { text: (m: string) => (encoded++, text(m)) } });
    expect(feed.observed).toBe(false);
    const [a, b, c] = [open('f'), open('f'), open('f')];
    expect(feed.observed).toBe(true);
    expect(hub.clientCount('f')).toBe(3);
    feed.next('x');
    feed.next('y');
    await turn();
    for (const conn of [a, b, c]) expect(conn.text).toBe('[xy]');
    expect(encoded).toBe(2);
    expect(hub.stats.deliveries).toBe(6);
    for (const conn of [a, b, c]) conn.end();
    expect(feed.observed).toBe(false);
    expect(hub.topicCount()).toBe(0);
  });

  it('encodes nothing for a family nobody watches', async () => {
    newHub();
    let encoded = 0;
    const feed = new Subject<string>();
    hub.addFamily('f', { feed, encode: { text: (m: string) => (encoded++, text(m)) } });
    expect(hub.publish('f', '', 'x')).toBe(0);
    await turn();
    expect(encoded).toBe(0);
  });

  it('is subscribed again after it errors: the clients stay and get what comes next', async () => {
    newHub();
    const subjects: Subject<string>[] = [];
    const feed = defer(() => {
      const s = new Subject<string>();
      subjects.push(s);
      return s;
    });
    hub.addFamily('f', { feed, encode: { text } });
    const a = open('f');
    subjects[0]?.next('1');
    subjects[0]?.error(new Error('upstream broke'));
    await turn();
    expect(a.text).toBe('[1]');
    expect(a.closed).toBe(false);
    await sleep(60);
    expect(subjects).toHaveLength(2);
    const late = open('f');
    subjects[1]?.next('2');
    await turn();
    expect(a.text).toBe('[1][2]');
    expect(late.text).toBe('[2]');
    expect(hub.stats.feedRestarts).toBe(1);
  });

  it('is subscribed again after it completes, and not once its clients are gone', async () => {
    newHub();
    let subscriptions = 0;
    const feed = new Observable<string>((s) => {
      subscriptions++;
      s.next(`hello ${subscriptions}`);
      s.complete();
    });
    hub.addFamily('f', { feed, encode: { text } });
    const a = open('f');
    await sleep(50);
    expect(subscriptions).toBeGreaterThanOrEqual(2);
    expect(a.text).toContain('hello 2');
    a.end();
    const after = subscriptions;
    await sleep(60);
    expect(subscriptions).toBe(after);
  });

  it('survives a feed that throws when opened, and an encoder that throws', async () => {
    newHub();
    let calls = 0;
    hub.addFamily('boom', {
      topicFeed: () => {
        if (calls++ === 0) throw new Error('cannot open');
        return new Subject<string>();
      },
      encode: { text },
    });
    const feed = new Subject<string>();
    hub.addFamily('f', {
      feed,
      encode: {
        text: (m: string) => {
          if (m === 'bad') throw new Error('unencodable');
          return text(m);
        },
      },
    });
    open('boom', 't');
    await sleep(50);
    expect(calls).toBe(2);
    const a = open('f');
    feed.next('good');
    feed.next('bad');
    feed.next('fine');
    await turn();
    expect(a.text).toBe('[goodfine]');
  });
});

describe('a routed feed', () => {
  it('binds each group to its topic, keeps the topic while its route lives, and counts routes', async () => {
    const metrics = new MetricsRegistry({ processMetrics: false });
    newHub({ metrics });
    const feed = new Subject<{ id: string; n: number }>();
    hub.addFamily('d', {
      routes: feed.pipe(groupBy((m) => m.id)),
      encode: { text: (m: { id: string; n: number }) => text(`${m.id}${m.n}`) },
      metricName: 'detail',
    });
    const a = open('d', 'A');
    const b = open('d', 'B');
    feed.next({ id: 'A', n: 1 });
    feed.next({ id: 'B', n: 1 });
    feed.next({ id: 'C', n: 1 }); // no client: its route exists, nothing is written
    await turn();
    expect([a.text, b.text]).toEqual(['[A1]', '[B1]']);
    expect(metrics.read().gauges).toMatchObject({
      'stream.detail.clients': 2,
      'stream.detail.routes': 3,
    });
    b.end();
    expect(hub.topicCount('d')).toBe(3); // B and C are still routed
    feed.next({ id: 'B', n: 2 });
    const b2 = open('d', 'B');
    feed.next({ id: 'B', n: 3 });
    await turn();
    expect(b2.text).toBe('[B3]');
    a.end();
    b2.end();
    expect(feed.observed).toBe(false);
    expect(hub.topicCount()).toBe(0);
    expect(metrics.read().gauges['stream.detail.routes']).toBe(0);
  });
});

describe('a feed per topic', () => {
  it('is subscribed while its topic has clients and released after', async () => {
    newHub();
    const live = new Map<string, Subject<string>>();
    hub.addFamily('u', {
      topicFeed: (topic) =>
        defer(() => {
          const s = new Subject<string>();
          live.set(topic, s);
          return s.pipe(finalize(() => live.delete(topic)));
        }),
      encode: { text },
    });
    const a = open('u', 'room:1', 'user:a');
    const b = open('u', 'room:1', 'user:b');
    expect([...live.keys()].sort()).toEqual(['room:1', 'user:a', 'user:b']);
    expect(hub.clientCount('u')).toBe(2);
    live.get('room:1')?.next('r');
    live.get('user:a')?.next('a');
    await turn();
    // One connection in several topics: each topic's turn is its own write, counted once per message.
    expect(a.recorder.chunks.sort()).toEqual(['[a]', '[r]']);
    expect(b.text).toBe('[r]');
    expect([a.msgsSent, b.msgsSent]).toEqual([2, 1]);
    hub.leave(a, 'u', 'user:a');
    expect(live.has('user:a')).toBe(false);
    expect(hub.clientCount('u')).toBe(2);
    a.end();
    expect(live.has('room:1')).toBe(true);
    b.end();
    expect(live.size).toBe(0);
    expect(hub.topicCount()).toBe(0);
    expect(hub.clientCount('u')).toBe(0);
  });
});

describe('the writer', () => {
  it('writes at most maxWritesPerTurn clients a loop turn, fewest remaining first', async () => {
    newHub({ maxWritesPerTurn: 2 });
    hub.addFamily('f', { topicFeed: () => NEVER, encode: { text } });
    const big = [1, 2, 3, 4, 5].map(() => open('f', 'big'));
    const small = open('f', 'small');
    hub.publish('f', 'big', 'B');
    hub.publish('f', 'small', 'S');
    await turn();
    // The small turn (one client) goes first, then one slot of the big one.
    expect(small.text).toBe('[S]');
    expect(big.filter((c) => c.text === '[B]')).toHaveLength(1);
    await turn();
    expect(big.filter((c) => c.text === '[B]')).toHaveLength(3);
    await turn();
    await turn();
    expect(big.every((c) => c.text === '[B]')).toBe(true);
  });

  it('sends one keepalive per connection, however many topics it is in', async () => {
    newHub({ keepaliveMs: 30 });
    hub.addFamily('f', { topicFeed: () => NEVER, encode: { text } });
    const a = open('f', 'x', 'y', 'z');
    await sleep(45);
    expect(a.text).toBe('.');
    expect(a.msgsSent).toBe(0);
  });

  it('drops a client that stays far over its bound, and only that one', async () => {
    newHub({ maxBufferBytes: 1024, slowClientTimeoutMs: 60_000 });
    const feed = new Subject<string>();
    hub.addFamily('f', { feed, encode: { text } });
    const slow = open('f');
    const fine = open('f');
    slow.recorder.stalled = true;
    for (let i = 0; i < 10; i++) {
      feed.next('x'.repeat(1000));
      await turn();
    }
    expect(slow.closed).toBe(true);
    expect(hub.stats.slowClientsDropped).toBe(1);
    expect(fine.closed).toBe(false);
    expect(fine.msgsSent).toBe(10);
  });
});

describe('stream ages and closing', () => {
  it('ends a stream at its maximum age and counts it', async () => {
    newHub();
    hub.addFamily('f', { feed: NEVER, encode: { text } });
    const c = new TestConnection();
    hub.attach(c, { maxAgeMs: 40 });
    hub.join(c, 'f');
    const other = open('f');
    await sleep(80);
    expect(c.ended).toBe(false);
    expect(hub.stats.streamsExpired).toBe(1);
    expect(other.closed).toBe(false);
    expect(hub.clientCount()).toBe(1);
  });

  it('ends every stream as going away on close', () => {
    newHub();
    hub.addFamily('f', { feed: NEVER, encode: { text } });
    const a = open('f');
    hub.close();
    expect(a.ended).toBe(true);
    expect(hub.closing).toBe(true);
    expect(hub.clientCount()).toBe(0);
  });
});

describe('numbered events (a framing per connection)', () => {
  it("encodes each message once, and numbers each connection's events in the order written", async () => {
    newHub();
    let encoded = 0;
    const a = new Subject<string>();
    const b = new Subject<string>();
    hub.addFamily<string>('n', {
      topicFeed: (t) => (t === 'a' ? a : b),
      encode: {
        sse: (m) => {
          encoded++;
          return Buffer.from(`data:${m}\n\n`);
        },
      },
    });
    const both = new TestConnection('both', numberedEvents(SSE_PLAIN));
    const onlyB = new TestConnection('b', numberedEvents(SSE_PLAIN, 10));
    hub.attach(both);
    hub.attach(onlyB);
    hub.join(both, 'n', 'a');
    hub.join(both, 'n', 'b');
    hub.join(onlyB, 'n', 'b');
    both.send([Buffer.from('data:ok\n\n')]);
    a.next('a1');
    b.next('b1');
    b.next('b2');
    await turn();
    a.next('a2');
    await turn();
    expect(encoded).toBe(4);
    const ids = (c: TestConnection) => [...c.text.matchAll(/id:(\d+)\n/g)].map((m) => Number(m[1]));
    expect(ids(both)).toEqual([1, 2, 3, 4, 5]);
    expect(both.text).toContain('id:1\ndata:ok\n\n');
    expect(onlyB.text).toBe('id:10\ndata:b1\n\nid:11\ndata:b2\n\n');
    // No keepalive comments: such streams keep themselves alive.
    hub.close();
    expect(both.text).not.toContain(':\n');
  });
});

describe('encoding on arrival', () => {
  /** A family of one encoding whose encoder records when it runs. */
  const family = (name: string, extra: { framesNeedMessages?: boolean } = {}) => {
    const feed = new Subject<string>();
    const calls: string[] = [];
    hub.addFamily<string>(name, {
      feed,
      encode: {
        text: (m) => {
          if (m === 'bad') throw new Error('unencodable');
          calls.push(m);
          return text(m);
        },
      },
      ...extra,
    });
    return { feed, calls };
  };

  it('encodes each message as it arrives and queues the bytes, once for every client', async () => {
    newHub();
    const { feed, calls } = family('f');
    const [a, b] = [open('f'), open('f')];
    feed.next('x');
    // Encoded before the turn is written, not at it.
    expect(calls).toEqual(['x']);
    expect(a.text).toBe('');
    feed.next('y');
    await turn();
    for (const c of [a, b]) expect(c.text).toBe('[xy]');
    expect(calls).toEqual(['x', 'y']);
    expect(hub.stats.deliveries).toBe(4);
  });

  it('leaves out a message its encoder throws on, and still settles what was queued', async () => {
    const errors: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        errors.push(chunk.toString());
        done();
      },
    });
    newHub({
      logger: winston.createLogger({
        level: 'error',
        transports: [new winston.transports.Stream({ stream: sink })],
      }),
    });
    const { feed } = family('f');
    const a = open('f');
    feed.next('good');
    feed.next('bad');
    feed.next('fine');
    await turn();
    expect(a.text).toBe('[goodfine]');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('a message could not be encoded; left out');
    // What was queued is settled: a durable feed waiting on it goes on.
    await hub.written('f', ['']);
  });

  it('waits for the turn when its framings need the messages (event ids from them)', async () => {
    newHub();
    const { feed, calls } = family('ids', { framesNeedMessages: true });
    const seen: unknown[] = [];
    const ids: Framing = {
      name: 'ids',
      encoding: 'text',
      perConnection: true,
      frame: (parts, messages) => {
        seen.push(...(messages ?? []));
        return Buffer.concat(parts);
      },
    };
    const c = new TestConnection('ids', ids);
    hub.attach(c);
    hub.join(c, 'ids', '');
    feed.next('m1');
    expect(calls).toEqual([]);
    await turn();
    expect(calls).toEqual(['m1']);
    expect(seen).toEqual(['m1']);
    expect(c.text).toBe('m1');
  });

  it('numbers events of a per-connection framing that needs no message', async () => {
    newHub();
    const { feed, calls } = family('n');
    const c = new TestConnection('n', numberedEvents(TEXT, 7));
    hub.attach(c);
    hub.join(c, 'n', '');
    feed.next('a');
    feed.next('b');
    expect(calls).toEqual(['a', 'b']);
    await turn();
    expect(c.text).toBe('[id:7\naid:8\nb]');
  });

  it('encodes nothing on arrival for a topic whose only member is held; the release encodes', async () => {
    newHub();
    const { feed, calls } = family('h');
    const c = new TestConnection('h');
    hub.attach(c);
    const held = hub.hold(c, 'h', '');
    feed.next('kept');
    expect(calls).toEqual([]);
    await turn();
    held?.release([], () => true);
    expect(calls).toEqual(['kept']);
    expect(c.text).toContain('kept');
  });
});

describe('Connection.whenEnded', () => {
  it('runs each listener once when the stream ends, and at once after it has', () => {
    newHub();
    const c = new TestConnection();
    hub.attach(c);
    const calls: string[] = [];
    c.whenEnded(() => calls.push('first'));
    c.end();
    c.end();
    expect(calls).toEqual(['first']);
    c.whenEnded(() => calls.push('late'));
    expect(calls).toEqual(['first', 'late']);
    expect(hub.clientCount()).toBe(0);
  });
});

describe('Hub.flush', () => {
  it('writes a connection what its topics hold for it now, and nothing twice', async () => {
    newHub({ maxWritesPerTurn: 2 });
    const feed = new Subject<string>();
    hub.addFamily<string>('f', { feed, encode: { text } });
    const clients = [open('f'), open('f'), open('f'), open('f')];
    const last = clients[3] as TestConnection;
    feed.next('m1');
    await turn();
    // The first slice went to two clients; the last one is still due m1, and m2 is queued.
    feed.next('m2');
    expect(last.text).toBe('');
    hub.flush(last);
    expect(last.text).toBe('[m1][m2]');
    last.end();
    await sleep(20);
    expect(last.text).toBe('[m1][m2]');
    expect((clients[0] as TestConnection).text).toBe('[m1][m2]');
  });

  describe('topic budgets per family', () => {
    it("refuses a family's topics past its own bound, naming its variable, and leaves the others room", () => {
      hub = newHub({ maxTopics: 10 });
      hub.addFamily('own', {
        topicFeed: () => NEVER,
        encode: { text: (m) => Buffer.from(String(m)) },
        maxTopics: { count: 2, variable: 'OWN_MAX_TOPICS' },
      });
      hub.addFamily('other', {
        topicFeed: () => NEVER,
        encode: { text: (m) => Buffer.from(String(m)) },
      });
      const c = new TestConnection();
      hub.attach(c);
      expect(hub.join(c, 'own', 'a')).toBe(true);
      expect(hub.join(c, 'own', 'b')).toBe(true);
      expect(hub.join(c, 'own', 'c')).toBe(false);
      expect(hub.topicRefusal('own', 'c')?.message).toBe(
        'the own streams have their 2 distinct topics (OWN_MAX_TOPICS); try again later',
      );
      // A topic it has is no new topic; the other family still has room.
      expect(hub.join(c, 'own', 'a')).toBe(true);
      for (const key of ['x', 'y', 'z']) expect(hub.join(c, 'other', key)).toBe(true);
    });
  });
});

describe('Hub.hold (a join that recovers)', () => {
  /** A family of numbered messages: `n` is the message's position. */
  const numbered = () => {
    const feeds = new Map<string, Subject<{ n: number }>>();
    hub.addFamily<{ n: number }>('h', {
      topicFeed: (topic) =>
        defer(() => {
          const s = new Subject<{ n: number }>();
          feeds.set(topic, s);
          return s.pipe(finalize(() => feeds.delete(topic)));
        }),
      encode: { text: (m) => Buffer.from(String(m.n)) },
    });
    return feeds;
  };
  const attached = () => {
    const c = new TestConnection();
    hub.attach(c);
    return c;
  };
  const after = (top: number) => (m: { n: number }) => m.n > top;

  it('writes nothing while held, then what it missed, then what came after its top, then live', async () => {
    newHub();
    const feeds = numbered();
    const other = open('h', 't');
    const c = attached();
    const held = hub.hold<{ n: number }>(c, 'h', 't');
    expect(held).toBeDefined();
    expect(hub.isIn(c, 'h', 't')).toBe(true);
    const feed = feeds.get('t') as Subject<{ n: number }>;
    // 3 and 4 arrive while the history is read; the read says top 3.
    feed.next({ n: 3 });
    feed.next({ n: 4 });
    await turn();
    expect(c.text).toBe('');
    held?.release([{ n: 2 }, { n: 3 }], after(3));
    // The two still queued went out in a turn before the release took effect.
    await turn();
    feed.next({ n: 5 });
    await turn();
    // One write: what it missed and what came after its top (a framing wraps a write in []).
    expect(c.recorder.chunks).toEqual(['[234]', '[5]']);
    expect(other.recorder.chunks).toEqual(['[34]', '[5]']);
    expect(c.msgsSent).toBe(4);
  });

  it('releases at the next turn when messages are still queued, so none goes twice or is missed', async () => {
    newHub();
    const feeds = numbered();
    open('h', 't');
    const c = attached();
    const held = hub.hold<{ n: number }>(c, 'h', 't');
    const feed = feeds.get('t') as Subject<{ n: number }>;
    feed.next({ n: 1 });
    // Released while 1 is queued for the topic's clients: it must not get it from that turn too.
    held?.release([{ n: 1 }], after(1));
    feed.next({ n: 2 });
    expect(c.text).toBe('');
    await turn();
    feed.next({ n: 3 });
    await turn();
    expect(c.text).toBe('[12][3]');
  });

  it('keeps the topic and its feed for a held client alone, and forgets it on leave', async () => {
    newHub();
    const feeds = numbered();
    const c = attached();
    const held = hub.hold<{ n: number }>(c, 'h', 'solo');
    expect(feeds.has('solo')).toBe(true);
    feeds.get('solo')?.next({ n: 1 });
    await turn();
    expect(hub.topicCount('h')).toBe(1);
    hub.leave(c, 'h', 'solo');
    expect(feeds.has('solo')).toBe(false);
    held?.release([], () => true);
    await turn();
    expect(c.text).toBe('');
  });

  it('holds a client already in the topic from then on, and keeps what it kept on a second hold', async () => {
    newHub();
    const feeds = numbered();
    const c = open('h', 't');
    const feed = feeds.get('t') as Subject<{ n: number }>;
    feed.next({ n: 1 });
    await turn();
    const first = hub.hold<{ n: number }>(c, 'h', 't');
    feed.next({ n: 2 });
    await turn();
    const second = hub.hold<{ n: number }>(c, 'h', 't');
    feed.next({ n: 3 });
    await turn();
    expect(c.text).toBe('[1]');
    first?.release([], after(1));
    second?.release([], after(1));
    await turn();
    expect(c.text).toBe('[1][23]');
  });

  it('drops a client whose hold overflowed instead of giving it a gap', async () => {
    newHub({ maxHeldMessages: 2 });
    const feeds = numbered();
    const c = attached();
    const held = hub.hold<{ n: number }>(c, 'h', 't');
    for (let n = 1; n <= 3; n++) feeds.get('t')?.next({ n });
    await turn();
    held?.release([], () => true);
    expect(c.closed).toBe(true);
    expect(c.text).toBe('');
  });

  it('refuses a hold past MAX_TOPICS, joining nothing', () => {
    newHub({ maxTopics: 1 });
    numbered();
    const c = attached();
    expect(hub.hold(c, 'h', 'a')).toBeDefined();
    expect(hub.hold(c, 'h', 'b')).toBeUndefined();
    expect(hub.topicsOf(c, 'h')).toEqual(['a']);
  });

  it("frames what it missed in the connection's own framing, given the messages", () => {
    newHub();
    numbered();
    // A framing of the connection's own (as numbered SSE events are) sees each part's message.
    const own: Framing = {
      name: 'own',
      encoding: 'text',
      perConnection: true,
      frame: (parts, messages) =>
        Buffer.from(
          parts.map((p, i) => `${(messages?.[i] as { n: number }).n}=${p.toString()};`).join(''),
        ),
    };
    const c = new TestConnection('n', own);
    hub.attach(c);
    hub.hold<{ n: number }>(c, 'h', 't')?.release([{ n: 7 }, { n: 8 }], () => true);
    expect(c.text).toBe('7=7;8=8;');
  });
});
