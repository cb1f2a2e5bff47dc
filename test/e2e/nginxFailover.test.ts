// A master of the six-node Redis Cluster SIGKILLed under two instances behind
// deploy/nginx.conf, with clients of every kind on both through the proxy: its
// replica takes over, pub/sub on the master's sharded channel and notifications
// flow again within 10 s, the site streams lose and repeat nothing of what was
// POSTed before, during and after, neither instance exits, and each instance's
// /readyz answers all along (200, or 503 with its reason).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/sources/keySlot.js';
import { siteHistoryKey } from '../../src/sources/SiteHistory.js';
import { NAMES, PUBLISH_API_KEY, QUEUE, noNginx, startNginxPair } from '../support/nginxPair.js';
import type { NginxPair } from '../support/nginxPair.js';
import type { LogLine } from '../support/process.js';
import { followNotify } from '../support/notifyFollower.js';
import { pollReadyz } from '../support/readyzPoller.js';
import { produceSiteMessages, siteProblems } from '../support/siteProducer.js';
import { waitUntil } from '../support/sse.js';
import { isControl, isMessage, subscribe } from '../support/ws.js';
import type { WsClient } from '../support/ws.js';

/** The issue's target: messages flow again at most this long after the kill. */
const FAILOVER_MS = 10_000;

let pair: NginxPair;

/** `prefix<i>` for the first i whose key has its slot on the master on `port`. */
async function onMaster(port: number, prefix: string, key: (name: string) => string) {
  for (let i = 0; i < 200; i++) {
    const name = `${prefix}${i}`;
    if ((await pair.cluster.masterOf(keySlot(key(name)))) === port) return name;
  }
  throw new Error(`no ${prefix}<i> on the master on ${port}`);
}

/** The times frames `match`ing arrive on a WebSocket client, from now on. */
function arrivals(c: WsClient, match: (frame: unknown) => boolean): number[] {
  const times: number[] = [];
  c.ws.on('message', (data: Buffer) => {
    try {
      if (match(JSON.parse(data.toString('utf8')))) times.push(Date.now());
    } catch {
      // Not JSON: not a message.
    }
  });
  return times;
}

/** The longest silence between `from` and `to` in these arrival times. */
function longestGap(times: readonly number[], from: number, to: number): number {
  const inside = [from, ...times.filter((t) => t > from && t < to), to];
  return Math.max(...inside.slice(1).map((t, i) => t - (inside[i] as number)));
}

/** An instance's warnings and errors from `since` on, each once with how often and when first. */
function warnings(logs: readonly LogLine[], since: number): string[] {
  const seen = new Map<string, { n: number; first: number }>();
  for (const l of logs) {
    const at = Date.parse(String(l.timestamp));
    if ((l.level !== 'warn' && l.level !== 'error') || at < since) continue;
    const key = `${l.level}: ${l.message}${l.error === undefined ? '' : ` (${JSON.stringify(l.error)})`}`;
    const s = seen.get(key);
    if (s) s.n++;
    else seen.set(key, { n: 1, first: at - since });
  }
  return [...seen].map(([key, s]) => `${key} ×${s.n} from ${s.first} ms`);
}

/** The notice a pub/sub client gets in place of messages lost on the way. */
const isLostNotice = (channel: string) => (frame: unknown) =>
  (frame as { lostOn?: unknown }).lostOn === channel;

describe(`a master failing over behind nginx${noNginx}`, { skip: noNginx !== '' }, () => {
  beforeAll(async () => {
    pair = await startNginxPair();
    // Each instance has made its consumer group before anything is enqueued.
    await waitUntil(
      async () =>
        ((await pair.cli.xinfo('GROUPS', QUEUE).catch(() => [])) as unknown[]).length === 2,
      10_000,
      "each instance's group",
    );
  }, 90_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('its replica takes over: pub/sub and notifications flow again within 10 s, site streams lose and repeat nothing, /readyz answers throughout', async () => {
    const { cli, nginx, instances } = pair;
    // One kill for all of it: the queue, the channel (its SSUBSCRIBEs and its
    // history), the site's history and the room's history on one master.
    const master = await pair.cluster.masterOf(keySlot(QUEUE));
    const channel = await onMaster(master, 'fo.', (c) => `pubsub:${c}`);
    const site = await onMaster(master, 'fo-site-', siteHistoryKey);
    const room = await onMaster(master, 'room:fo.', (r) => r);
    await cli.sadd('user:fo:channels', room);

    // Clients through nginx on each instance: pub/sub, a site stream, notifications.
    const subscribers = await pair.onEachInstance(
      async (userAgent) => {
        const c = await pair.ws('/pubsub', userAgent);
        await subscribe(c, channel);
        return c;
      },
      (c) => c.close(),
    );
    const sites = await pair.onEachInstance(
      async (userAgent) => {
        const c = await pair.ws(`/datastream?site=${site}`, userAgent);
        await c.next(isControl(`Subscribed to site ${site}`), 5_000, `the subscription to ${site}`);
        return c;
      },
      (c) => c.close(),
    );
    const notes = await pair.onEachInstance(
      async (userAgent) => {
        const f = await followNotify(`${nginx.url}/?user=fo`, { 'User-Agent': userAgent });
        await f.current().waitStatus('ok');
        return f;
      },
      (f) => f.close(),
    );
    for (const name of NAMES) pair.closeLater(() => notes[name].close());
    const ofSite = (f: unknown) => (f as { site?: string }).site === site;
    const pubTimes = {
      a: arrivals(subscribers.a, isMessage(channel)),
      b: arrivals(subscribers.b, isMessage(channel)),
    };
    /** The `k`s of the notifications a follower got, and when. */
    const noted = (name: 'a' | 'b') =>
      notes[name].events.flatMap(({ at, event }) =>
        event.event === undefined && event.data.startsWith('{"k":')
          ? [{ at, k: (JSON.parse(event.data) as { k: number }).k }]
          : [],
      );

    const readyz = { a: pollReadyz(instances.a.url), b: pollReadyz(instances.b.url) };
    const producer = produceSiteMessages(nginx.url, site, 'fo');
    // A pub/sub client publishing through nginx, and the publish API on the room.
    const publisher = await pair.ws('/pubsub');
    let published = 0;
    const publishing = setInterval(() => {
      publisher.send({ action: 'publish', payload: { channel, message: { n: published++ } } });
    }, 100);
    let notified = 0;
    const notifiedOk: number[] = [];
    const notifyingNow = new Set<Promise<unknown>>();
    const notifying = setInterval(() => {
      const k = notified++;
      const request = fetch(`${nginx.url}/api/publish`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_API_KEY}` },
        body: JSON.stringify({ channel: room, data: { k } }),
      }).then(
        (res) => res.status === 200 && notifiedOk.push(k),
        () => undefined,
      );
      notifyingNow.add(request);
      void request.finally(() => notifyingNow.delete(request));
    }, 100);
    const stopAll = async () => {
      clearInterval(publishing);
      clearInterval(notifying);
      await Promise.all(notifyingNow);
      await producer.stop();
      await Promise.all(NAMES.map((name) => readyz[name].stop()));
    };

    try {
      await waitUntil(
        () =>
          NAMES.every(
            (name) =>
              subscribers[name].received.filter(isMessage(channel)).length >= 3 &&
              sites[name].received.filter(ofSite).length >= 5 &&
              noted(name).length >= 3,
          ),
        10_000,
        'everything flowing before the kill',
      );

      const killedAt = Date.now();
      await pair.cluster.killMaster(master);
      const failedOverAt = Date.now();
      const [publishedBy, notifiedBy, postedBy] = [published, notified, producer.accepted.length];
      // What is published once the replica has taken over arrives within the target.
      const flowing = (what: string, check: () => boolean) =>
        waitUntil(check, Math.max(0, killedAt + FAILOVER_MS - Date.now()), what);
      const nOf = (f: unknown) => (f as { message: { n: number } }).message.n;
      await flowing(`pub/sub on ${channel} within ${FAILOVER_MS} ms of the kill`, () =>
        NAMES.every((name) =>
          subscribers[name].received.some((f) => isMessage(channel)(f) && nOf(f) >= publishedBy),
        ),
      );
      await flowing(`notifications on ${room} within ${FAILOVER_MS} ms of the kill`, () =>
        NAMES.every((name) => noted(name).some(({ k }) => k >= notifiedBy)),
      );
      const flowingAt = Date.now();
      await waitUntil(
        () => producer.accepted.length >= postedBy + 20,
        10_000,
        '20 site POSTs taken after the failover',
      );
      const stoppedAt = Date.now();
      await stopAll();
      const { accepted, refused } = producer;
      // A notification stream ended to recover comes back after its `retry:` (up to 3 s).
      await waitUntil(
        () => NAMES.every((name) => notifiedOk.every((k) => noted(name).some((e) => e.k === k))),
        10_000,
        'every notification on both followers',
      ).catch(() => undefined); // the expect below says what is missing

      const report = [
        `failed over ${failedOverAt - killedAt} ms after the kill; flowing again at ${flowingAt - killedAt} ms`,
        ...NAMES.map((name) => {
          const pubGap = longestGap(pubTimes[name], killedAt, stoppedAt);
          const lost = subscribers[name].received.filter(isLostNotice(channel)).length;
          const noteGap = longestGap(
            noted(name).map(({ at }) => at),
            killedAt,
            stoppedAt,
          );
          const connections = notes[name].statuses.join(' ');
          return `${name}: longest silence after the kill: pub/sub ${pubGap} ms (${lost} lost notices), notifications ${noteGap} ms (connections: ${connections})`;
        }),
        `site POSTs: ${accepted.length} taken, ${refused.length} refused and tried again`,
        ...refused.map((r) => `  n=${r.n} at ${r.at - killedAt} ms: ${r.answer.slice(0, 200)}`),
        ...NAMES.map((name) => `${name} /readyz: ${readyz[name].summary(killedAt).join('; ')}`),
        ...NAMES.flatMap((name) =>
          warnings(instances[name].logs(), killedAt).map((w) => `${name} logged ${w}`),
        ),
      ].join('\n');
      console.info(`nginx failover:\n${report}`);

      for (const name of NAMES) {
        // Each site client got each POST taken once, in order.
        await waitUntil(
          () => siteProblems(sites[name].received.filter(ofSite), producer).missing.length === 0,
          10_000,
          `every site message on ${name}`,
        ).catch(() => undefined); // the expect below says what is missing
        expect(
          siteProblems(sites[name].received.filter(ofSite), producer),
          `site stream on ${name}\n${report}`,
        ).toEqual({
          missing: [],
          repeated: [],
          outOfOrder: [],
          unexplained: [],
        });
        // Each notification taken reached each follower once, recovered if need be.
        const ks = noted(name).map(({ k }) => k);
        expect(
          {
            missing: notifiedOk.filter((k) => !ks.includes(k)),
            repeated: ks.filter((k, i) => ks.indexOf(k) !== i),
          },
          `notifications on ${name}\n${report}`,
        ).toEqual({ missing: [], repeated: [] });
        expect(longestGap(pubTimes[name], killedAt, stoppedAt), report).toBeLessThanOrEqual(
          FAILOVER_MS,
        );
        // The process is running; it answered every /readyz, and is ready now.
        expect(instances[name].child.exitCode, `${name}'s exit code`).toBeNull();
        expect(readyz[name].unexpected(), `${name}'s /readyz\n${report}`).toEqual([]);
        const now = await fetch(`${instances[name].url}/readyz`);
        expect(`${now.status} ${await now.text()}`, `${name}'s /readyz at the end\n${report}`).toBe(
          '200 {"status":"OK"}',
        );
      }
    } finally {
      await stopAll();
    }
  }, 90_000);
});
