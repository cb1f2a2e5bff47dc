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
    await enqueue(q, 'mrc', 'weather', { t: 1 });
    await s.next(is({ site: 'mrc', topic: 'weather', data: { t: 1 } }));

    s.frame({ action: 'updatesubscribersite', site: 'sro', topics: ['news'] });
    await s.next(is(control('Subscribed to site sro')));
    expect(h.hub.topicsOf(s, 'datastream')).toEqual(['sro/news']);
    await enqueue(q, 'sro', 'weather', { t: 2 });
    await enqueue(q, 'sro', 'news', { n: 3 });
    await s.next(is({ site: 'sro', topic: 'news', data: { n: 3 } }));
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
