// The pub/sub protocol's handler driven frame by frame on in-memory sessions,
// with a real hub and bus and no sockets: the three actions and their replies,
// every kind of bad frame answered with a control error while the session stays
// open, the hooks (authenticators failing closed, push traps, receivers,
// openings and closings) and the bounds; membership is the hub's alone.
import { filter, map } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { pubsubProtocol } from '../../src/protocols/pubsub/index.js';
import type { PubsubClient, PubsubHooks } from '../../src/protocols/pubsub/index.js';
import { PUBSUB_FAMILY } from '../../src/protocols/pubsub/PubsubService.js';
import { startProtocol } from '../support/sessions.js';
import type { MemorySession, ProtocolHarness } from '../support/sessions.js';

let harness: ProtocolHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const start = (hooks?: PubsubHooks, env: Record<string, string> = {}) => {
  harness = startProtocol(pubsubProtocol(hooks), { env });
  return harness;
};

const control = (content: string, error = false) =>
  error ? { controlMessage: true, error: true, content } : { controlMessage: true, content };
const is = (expected: unknown) => (m: unknown) => JSON.stringify(m) === JSON.stringify(expected);
const subscribe = async (s: MemorySession, channel: string) => {
  s.frame({ action: 'subscribe', payload: { channel } });
  await s.next(is(control(`Subscribed to ${channel}`)));
};

describe('the pub/sub handler', () => {
  it('subscribes, delivers what another session publishes, and unsubscribes', async () => {
    const h = start();
    const a = h.open('/pubsub');
    const b = h.open('/pubsub');
    await subscribe(a, 'room');
    b.frame({ action: 'publish', payload: { channel: 'room', message: { n: 1 } } });
    await a.next(is({ channel: 'room', message: { n: 1 } }));
    expect(h.hub.topicsOf(a, PUBSUB_FAMILY)).toEqual(['room']);
    a.frame({ action: 'unsubscribe', payload: { channel: 'room' } });
    await a.next(is(control('Unsubscribed from room')));
    expect(h.hub.topicCount(PUBSUB_FAMILY)).toBe(0);
  });

  it.each([
    ['a binary frame', Buffer.from([1, 2]), 'frames must be text (JSON)'],
    ['text that is not JSON', 'hello', 'a frame must be JSON'],
    ['JSON that is not an object', '[1]', 'a frame must be a JSON object'],
    ['no action', '{}', 'a frame needs an "action": subscribe, unsubscribe or publish'],
    ['a subscribe without payload', '{"action":"subscribe"}', 'subscribe needs a payload object'],
    [
      'a bad channel',
      '{"action":"subscribe","payload":{"channel":"a b"}}',
      'a channel name has only letters, digits and _ . : @ / -',
    ],
    [
      'a publish without message',
      '{"action":"publish","payload":{"channel":"c"}}',
      'publish needs payload.message',
    ],
  ])('answers %s with a control error and stays open', async (_what, frame, error) => {
    const s = start().open('/pubsub');
    s.deliver(frame);
    await s.next(is(control(error, true)));
    expect(s.closed).toBe(false);
    await subscribe(s, 'after');
  });

  it('denies what an authenticator refuses or throws on, and counts it', async () => {
    const h = start({
      authenticators: [
        { channels: 'private.*', check: () => false },
        {
          channels: 'broken.*',
          check: () => {
            throw new Error('boom');
          },
        },
      ],
    });
    const s = h.open('/pubsub');
    s.frame({ action: 'subscribe', payload: { channel: 'private.1' } });
    await s.next(is(control('not allowed to subscribe private.1', true)));
    s.frame({ action: 'publish', payload: { channel: 'broken.1', message: 1 } });
    await s.next(is(control('not allowed to publish to broken.1', true)));
    expect(h.hub.topicCount(PUBSUB_FAMILY)).toBe(0);
    expect(h.metrics.read().counters['pubsub.denied']).toBe(2);
  });

  it('sends publishes through the push traps in order: changed, suppressed', async () => {
    const h = start({
      pushTraps: [
        filter((p) => p.message !== 'drop'),
        map((p) => ({ ...p, message: { wrapped: p.message } })),
      ],
    });
    const s = h.open('/pubsub');
    await subscribe(s, 't');
    s.frame({ action: 'publish', payload: { channel: 't', message: 'drop' } });
    s.frame({ action: 'publish', payload: { channel: 't', message: 'keep' } });
    await s.next(is({ channel: 't', message: { wrapped: 'keep' } }));
    expect(s.sent.filter((m) => JSON.stringify(m).includes('drop'))).toEqual([]);
  });

  it('hands other frames to a receiver, whose answer goes back to that client', async () => {
    const h = start({
      receivers: [
        { match: (f) => (f as { ping?: unknown }).ping !== undefined, handle: () => ({ pong: 1 }) },
      ],
    });
    const s = h.open('/pubsub');
    s.frame({ ping: true });
    await s.next(is({ pong: 1 }));
    s.frame({ other: true });
    await s.next(is(control('a frame needs an "action": subscribe, unsubscribe or publish', true)));
  });

  it('runs openings and closings with the client, however it ended', async () => {
    const seen: string[] = [];
    const h = start({
      openings: [(c: PubsubClient) => void seen.push(`open ${c.request.query.get('u') ?? ''}`)],
      closings: [(c: PubsubClient) => void seen.push(`close ${c.id}`)],
    });
    const s = h.open('/pubsub', { query: new URLSearchParams('u=ann') });
    await new Promise((r) => setTimeout(r, 5));
    s.destroy();
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['open ann', expect.stringMatching(/^close \d+$/)]);
    expect(h.hub.sessionCount('/pubsub')).toBe(0);
  });

  it('bounds the channels of one client (PUBSUB_MAX_CHANNELS)', async () => {
    const s = start(undefined, { PUBSUB_MAX_CHANNELS: '2' }).open('/pubsub');
    await subscribe(s, 'a');
    await subscribe(s, 'b');
    s.frame({ action: 'subscribe', payload: { channel: 'c' } });
    await s.next(is(control('at most 2 channels at once: unsubscribe from one first', true)));
    // Subscribing again to one it has is no new channel.
    await subscribe(s, 'a');
  });

  it('drops a client that never reads its control errors, as it drops a slow reader', () => {
    harness = startProtocol(pubsubProtocol(), { hub: { maxBufferBytes: 4096 } });
    const s = harness.open('/pubsub', {}, { stalled: true });
    let sent = 0;
    while (!s.closed && sent < 10_000) {
      s.deliver(JSON.stringify({ action: `nope-${sent++}` }));
    }
    // Past 4 × the bound it goes at once: a few hundred replies, not ten thousand.
    expect(sent).toBeLessThan(500);
    expect(s.closedWith).toEqual({ code: 1006, reason: 'destroyed' });
    expect(harness.hub.stats.slowClientsDropped).toBe(1);
  });

  it('refuses publishes past PUBSUB_PUBLISH_RATE with a control error, and stays open', () => {
    const h = start(undefined, { PUBSUB_PUBLISH_RATE: '5' });
    const s = h.open('/pubsub');
    for (let i = 0; i < 8; i++)
      s.frame({ action: 'publish', payload: { channel: 'c', message: i } });
    const refusals = s.sent.filter((m) =>
      JSON.stringify(m).includes('publishing too fast: at most 5 publishes a second'),
    );
    expect(refusals).toHaveLength(3);
    expect(s.closed).toBe(false);
  });

  it('refuses publishes while PUBSUB_PUBLISH_IN_FLIGHT of its own wait for the bus, and takes them again after', async () => {
    const waiting: (() => void)[] = [];
    const slowBus = {
      publish: () => new Promise<number>((resolve) => waiting.push(() => resolve(1))),
    };
    harness = startProtocol(pubsubProtocol(), {
      env: { PUBSUB_PUBLISH_IN_FLIGHT: '2' },
      publisher: slowBus,
    });
    const s = harness.open('/pubsub');
    const other = harness.open('/pubsub');
    const publish = (c: MemorySession) =>
      c.frame({ action: 'publish', payload: { channel: 'c', message: 1 } });
    publish(s);
    publish(s);
    await new Promise((r) => setTimeout(r, 5));
    publish(s);
    await s.next(
      is(
        control(
          '2 publishes are still on their way (PUBSUB_PUBLISH_IN_FLIGHT); try again once they are acknowledged',
          true,
        ),
      ),
    );
    // Another client is not held up by this one's.
    publish(other);
    await new Promise((r) => setTimeout(r, 5));
    expect(waiting).toHaveLength(3);
    for (const done of waiting.splice(0)) done();
    await new Promise((r) => setTimeout(r, 5));
    publish(s);
    await new Promise((r) => setTimeout(r, 5));
    expect(waiting).toHaveLength(1);
  });

  it('bounds the publish bytes of one address, all its clients together, and no other', () => {
    const h = start(undefined, { PUBSUB_PUBLISH_BYTES_PER_S: '2048', WS_MAX_FRAME_BYTES: '1024' });
    const [a, b] = [h.open('/pubsub'), h.open('/pubsub')];
    const other = h.open('/pubsub', { ip: '198.51.100.1' });
    const big = { action: 'publish', payload: { channel: 'c', message: 'x'.repeat(900) } };
    a.frame(big);
    b.frame(big);
    b.frame(big);
    other.frame(big);
    const tooFast = (m: unknown) =>
      JSON.stringify(m).includes('publishing too fast from this address');
    expect([a, b, other].map((c) => c.sent.filter(tooFast).length)).toEqual([0, 1, 0]);
  });

  it('leaves every channel when the session ends: the hub keeps nothing of it', async () => {
    const h = start();
    const s = h.open('/pubsub');
    await subscribe(s, 'x');
    await subscribe(s, 'y');
    expect(h.hub.sessionCount('/pubsub')).toBe(1);
    s.close();
    expect(h.hub.topicCount()).toBe(0);
    expect(h.hub.sessionCount('/pubsub')).toBe(0);
    expect(h.handle.status?.()).toEqual({ pubsub_clients: 0, pubsub_channels: 0 });
  });
});
