// The site-stream handler driven on in-memory sessions over the in-process
// queue: the handshake's checks, following and switching sites and topics,
// authenticators, bad frames; and the queue's entries acknowledged only once
// their frames are on the clients' sockets — a startup claim of 1,000 entries
// left by an earlier run included, whose full acknowledgement batches once
// went out before the hub had written anything.
import { afterEach, describe, expect, it } from 'vitest';
import { StreamerError } from '../../src/core/errors.js';
import { datastreamProtocol } from '../../src/protocols/datastream/index.js';
import type { DatastreamHooks } from '../../src/protocols/datastream/index.js';
import { MemoryQueue } from '../../src/sources/MemoryQueue.js';
import { MemorySiteHistory } from '../../src/sources/MemorySiteHistory.js';
import { startProtocol } from '../support/sessions.js';
import type { MemorySession, ProtocolHarness } from '../support/sessions.js';

let harness: ProtocolHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const queue = (count = 100) =>
  new MemoryQueue({ maxLen: 100_000, deadMaxLen: 100, blockMs: 50, count });

const start = (hooks: DatastreamHooks = {}) => {
  harness = startProtocol(datastreamProtocol({ queue: queue(), ...hooks }), {
    env: { DATASTREAM_RESUME_DELAY_MS: '0' },
  });
  return harness;
};

const control = (content: string, error = false) =>
  error ? { controlMessage: true, error: true, content } : { controlMessage: true, content };
const is = (expected: unknown) => (m: unknown) => JSON.stringify(m) === JSON.stringify(expected);
const site = (s: string, topics?: string) =>
  ({ query: new URLSearchParams(topics ? { site: s, topics } : { site: s }) }) as const;

const enqueue = (q: MemoryQueue, s: string, topic: string, data: unknown) =>
  q.enqueue({ site: s, topic, data: JSON.stringify(data) });

describe('the site-stream handler', () => {
  it('refuses a handshake without a good site or with bad topics, with a 400', () => {
    const h = start();
    const noSite = h.accept('/datastream');
    expect(noSite).toBeInstanceOf(StreamerError);
    expect(noSite?.status).toBe(400);
    expect(noSite?.message).toBe('?site=<site> is required: site must be a non-empty string');
    expect(h.accept('/datastream', site('a b'))?.status).toBe(400);
    expect(h.accept('/datastream', site('ok', 'bad topic'))?.message).toMatch(/each of topics/);
    expect(h.accept('/datastream', site('ok', 'a,b'))).toBeUndefined();
  });

  it("follows its site, switches, and narrows to topics; the hub says what it's in", async () => {
    const q = queue();
    const h = start({ queue: q });
    const s = h.open('/datastream', site('mrc'));
    await s.next(is(control('Subscribed to site mrc')));
    const id = await enqueue(q, 'mrc', 'weather', { t: 1 });
    await s.next(is({ site: 'mrc', topic: 'weather', data: { t: 1 }, id }));

    s.frame({ action: 'updatesubscribersite', site: 'sro', topics: ['news'] });
    await s.next(is(control('Subscribed to site sro')));
    expect(h.hub.topicsOf(s, 'datastream')).toEqual(['sro/news']);
    await enqueue(q, 'sro', 'weather', { t: 2 });
    const news = await enqueue(q, 'sro', 'news', { n: 3 });
    await s.next(is({ site: 'sro', topic: 'news', data: { n: 3 }, id: news }));
    expect(s.sent.some((m) => JSON.stringify(m).includes('"t":2'))).toBe(false);
    // A switch without topics keeps the filter.
    s.frame({ action: 'updatesubscribersite', site: 'mrc' });
    await s.next(is(control('Subscribed to site mrc')));
    expect(h.hub.topicsOf(s, 'datastream')).toEqual(['mrc/news']);
  });

  it('closes with 1008 when its first site is not allowed; a later refusal keeps the old site', async () => {
    const h = start({
      authenticators: [{ channels: 'secret*', check: () => false }],
    });
    const refused = h.open('/datastream', site('secret'));
    await refused.next(is(control('not allowed to subscribe to site secret', true)));
    expect(refused.closedWith).toEqual({ code: 1008, reason: 'site not allowed' });

    const s = h.open('/datastream', site('open'));
    await s.next(is(control('Subscribed to site open')));
    s.frame({ action: 'updatesubscribersite', site: 'secret2' });
    await s.next(is(control('not allowed to subscribe to site secret2', true)));
    expect(h.hub.topicsOf(s, 'datastream')).toEqual(['open']);
    expect(s.closed).toBe(false);
  });

  it.each([
    ['a binary frame', Buffer.from([0]), 'frames must be text (JSON)'],
    ['not JSON', 'x', 'a frame must be JSON'],
    [
      'another action',
      '{"action":"subscribe"}',
      'unknown action "subscribe": expected updatesubscribersite',
    ],
    [
      'a bad site',
      '{"action":"updatesubscribersite","site":""}',
      'site must be a non-empty string',
    ],
  ])('answers %s with a control error and stays open', async (_what, frame, error) => {
    const s = start().open('/datastream', site('a'));
    await s.next(is(control('Subscribed to site a')));
    s.deliver(frame);
    await s.next(is(control(error, true)));
    expect(s.closed).toBe(false);
  });
});

describe('acknowledgement after delivery', () => {
  it("acknowledges a startup claim's entries only once their frames are on the socket", async () => {
    // What an earlier run of this instance read and never acknowledged: 1,000 entries, one claim pass.
    class Recording extends MemoryQueue {
      /** For each acknowledged id, whether the client had its frame at that moment. */
      readonly acked: { id: string; delivered: boolean }[] = [];
      session: MemorySession | undefined;
      override ack(ids: readonly string[]): Promise<number> {
        const got = new Set(
          (this.session?.sent ?? []).map((m) => (m as { data?: { id?: string } }).data?.id),
        );
        for (const id of ids) this.acked.push({ id, delivered: got.has(this.byEntry.get(id)) });
        return super.ack(ids);
      }
      readonly byEntry = new Map<string, string | undefined>();
    }
    const q = new Recording({ maxLen: 100_000, deadMaxLen: 100, blockMs: 50, count: 2_000 });
    for (let i = 0; i < 1_000; i++) {
      const key = `e${i}`;
      q.byEntry.set(await enqueue(q, 'busy', 't', { id: key }), key);
    }
    expect(await q.readNew()).toHaveLength(1_000);

    // The reader starts only once the client is there (DATASTREAM_RESUME_DELAY_MS).
    harness = startProtocol(datastreamProtocol({ queue: q }), {
      env: { DATASTREAM_RESUME_DELAY_MS: '50' },
    });
    const s = harness.open('/datastream', site('busy'));
    q.session = s;
    await s.next(is(control('Subscribed to site busy')));
    const deadline = Date.now() + 10_000;
    while (q.acked.length < 1_000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));

    expect(q.acked).toHaveLength(1_000);
    expect(q.acked.filter((a) => !a.delivered)).toEqual([]);
    expect((await q.lag()).pending).toBe(0);
  });
});

describe('recovery on reconnect', () => {
  const resume = (s: string, lastEventId: string, topics?: string) => ({
    query: new URLSearchParams({ site: s, lastEventId, ...(topics ? { topics } : {}) }),
  });
  const ids = (s: MemorySession) =>
    s.sent.flatMap((m) =>
      (m as { id?: unknown }).id === undefined ? [] : [(m as { id: string }).id],
    );
  /** Waits until the queue has handed everything to the hub (and it was acknowledged). */
  const drained = async (q: MemoryQueue) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const lag = await q.lag();
      if ((lag.pending === 0 && lag.unread === 0) || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  /** A client that got one message of the site and dropped; returns that message's id. */
  const dropped = async (h: ProtocolHarness, q: MemoryQueue, s: string) => {
    const first = h.open('/datastream', site(s));
    await first.next(is(control(`Subscribed to site ${s}`)));
    const id = await enqueue(q, s, 'a', 0);
    await first.next((m) => (m as { id?: string }).id === id);
    first.close();
    return id;
  };

  it('refuses a lastEventId that is not an entry id with a 400', () => {
    const h = start();
    for (const bad of [
      'x',
      '1',
      '1-',
      '-1',
      '1-2-3',
      '123456789012345678901-0',
      '99999999999999999999-0',
    ])
      expect(h.accept('/datastream', resume('ok', bad))?.status, bad).toBe(400);
    expect(h.accept('/datastream', resume('ok', '1-0'))).toBeUndefined();
  });

  it('replays what was missed after lastEventId, in order, then goes on live', async () => {
    const q = queue();
    const h = start({ queue: q });
    const last = await dropped(h, q, 'rec');
    const missed: string[] = [];
    for (let i = 1; i <= 3; i++) missed.push(await enqueue(q, 'rec', i % 2 ? 'a' : 'b', i));
    await drained(q);

    const back = h.open('/datastream', resume('rec', last));
    await back.next((m) => (m as { id?: string }).id === missed[2]);
    const live = await enqueue(q, 'rec', 'a', 4);
    await back.next((m) => (m as { id?: string }).id === live);
    expect(back.sent[0]).toEqual({
      controlMessage: true,
      content: 'Subscribed to site rec',
      recovered: true,
    });
    expect(back.sent.slice(1, 4)).toEqual([
      { site: 'rec', topic: 'a', data: 1, id: missed[0] },
      { site: 'rec', topic: 'b', data: 2, id: missed[1] },
      { site: 'rec', topic: 'a', data: 3, id: missed[2] },
    ]);
    expect(ids(back)).toEqual([...missed, live]);
    expect(h.hub.topicsOf(back, 'datastream')).toEqual(['rec']);
  });

  it("replays only the client's topics when it narrowed them", async () => {
    const q = queue();
    const h = start({ queue: q });
    const last = await dropped(h, q, 'nar');
    const missed: string[] = [];
    for (let i = 1; i <= 4; i++) missed.push(await enqueue(q, 'nar', i % 2 ? 'a' : 'b', i));
    await drained(q);
    const back = h.open('/datastream', resume('nar', last, 'b'));
    await back.next((m) => (m as { id?: string }).id === missed[3]);
    expect(ids(back)).toEqual([missed[1], missed[3]]);
  });

  it('says recovered:false first when the history no longer reaches back, then goes on live', async () => {
    const q = queue();
    const history = new MemorySiteHistory({ size: 100, ttlS: 300 });
    const h = start({ queue: q, history });
    const last = await dropped(h, q, 'gone');
    await enqueue(q, 'gone', 'a', 1);
    await drained(q);
    history.forget('gone');
    const back = h.open('/datastream', resume('gone', last));
    await back.next(is(control('Subscribed to site gone')));
    const live = await enqueue(q, 'gone', 'a', 2);
    await back.next((m) => (m as { id?: string }).id === live);
    expect(back.sent.slice(0, 2)).toEqual([
      {
        controlMessage: true,
        content: `the messages after ${last} cannot be recovered: the history no longer reaches back to it`,
        recovered: false,
      },
      { controlMessage: true, content: 'Subscribed to site gone' },
    ]);
    expect(ids(back)).toEqual([live]);
  });

  it('says recovered:false when more than RECOVERY_MAX were missed', async () => {
    const q = queue();
    harness = startProtocol(datastreamProtocol({ queue: q }), {
      env: { DATASTREAM_RESUME_DELAY_MS: '0', RECOVERY_MAX: '2' },
    });
    const last = await dropped(harness, q, 'many');
    for (let i = 1; i <= 3; i++) await enqueue(q, 'many', 'a', i);
    await drained(q);
    const back = harness.open('/datastream', resume('many', last));
    await back.next(is(control('Subscribed to site many')));
    expect(back.sent[0]).toMatchObject({
      content: expect.stringMatching(
        /more than 2 messages followed it \(RECOVERY_MAX\)$/,
      ) as unknown,
      recovered: false,
    });
    expect(ids(back)).toEqual([]);
  });

  it('says recovered:false with the reason when the history cannot be read', async () => {
    const q = queue();
    const h = start({
      queue: q,
      history: { add: () => undefined, since: () => Promise.reject(new Error('Redis is down')) },
    });
    const last = await dropped(h, q, 'down');
    const back = h.open('/datastream', resume('down', last));
    await back.next(is(control('Subscribed to site down')));
    expect(back.sent[0]).toEqual({
      controlMessage: true,
      content: `the messages after ${last} cannot be recovered: the history could not be read`,
      recovered: false,
    });
    const live = await enqueue(q, 'down', 'a', 1);
    await back.next((m) => (m as { id?: string }).id === live);
  });

  it('says recovered:false after a while for an entry this server never delivers', async () => {
    const h = start();
    const back = h.open('/datastream', resume('ahead', '99999999999999-0'));
    await back.next(is(control('Subscribed to site ahead')), 4_000);
    expect(back.sent[0]).toMatchObject({
      content: expect.stringMatching(/has not caught up with it$/) as unknown,
      recovered: false,
    });
  });

  it('loses nothing and repeats nothing while entries keep coming during reconnects', async () => {
    const q = queue();
    const h = start({ queue: q });
    const sent: string[] = [];
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        sent.push(await enqueue(q, 'race', 'a', i));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const got: string[] = [];
    let s = h.open('/datastream', site('race'));
    for (let round = 0; round < 30; round++) {
      await s.next((m) => (m as { id?: string }).id !== undefined);
      await new Promise((r) => setTimeout(r, Math.random() * 10));
      s.close();
      got.push(...ids(s));
      s = h.open('/datastream', resume('race', got[got.length - 1] as string));
    }
    await s.next((m) => (m as { id?: string }).id !== undefined);
    producing = false;
    await producer;
    const final = sent[sent.length - 1] as string;
    const deadline = Date.now() + 5_000;
    while (!ids(s).includes(final) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    got.push(...ids(s));
    expect(got).toEqual(sent.slice(sent.indexOf(got[0] as string)));
  });
});
