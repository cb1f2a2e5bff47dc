// Site streams (datastreamer) as a protocol module: services enqueue
// `{site, topic, data}` on a durable queue (a Redis Stream, XADD or POST), and
// every client connected for that site at DATASTREAM_PATH receives each one.
// Every instance reads the stream through a consumer group of its own, so each
// serves every message to its own clients, and a restarted instance resumes
// where its group stopped. An entry is acknowledged once the hub has it for
// every local client of its site; one that cannot be read, or that keeps
// failing, goes to `<key>:dead` with the reason.
import { randomBytes } from 'node:crypto';
import {
  NEVER,
  concatMap,
  defer,
  ignoreElements,
  interval,
  map,
  of,
  startWith,
  switchMap,
  timer,
} from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { StreamerError } from '../../core/errors.js';
import { defineProtocol } from '../../core/protocol.js';
import type { ProtocolModule } from '../../core/protocol.js';
import { acknowledge } from '../../operators/acknowledge.js';
import { routeEntries } from '../../operators/routeEntries.js';
import type { Routed } from '../../operators/routeEntries.js';
import { MemoryQueue } from '../../sources/MemoryQueue.js';
import { queueEntries } from '../../sources/queueEntries.js';
import type { QueueEntry, QueueLag, QueueStore } from '../../sources/QueueStore.js';
import { RedisStreamQueue } from '../../sources/RedisStreamQueue.js';
import type { Session } from '../../core/session.js';
import { authorizer } from '../authorize.js';
import { controlError, controlMessage, toJson } from '../controlFrames.js';
import { datastreamSchema } from './config.js';
import type { DatastreamConfig } from './config.js';
import { demoSiteMessages } from './demoSites.js';
import type { DatastreamHooks, SiteClient } from './hooks.js';
import { mountIngest } from './ingest.js';
import { parseAction, parseEntry, readTopics, siteProblem } from './wire.js';
import type { SiteAction, SiteMessage } from './wire.js';

/** The hub family of the site streams: topic `<site>` for every topic, `<site>/<topic>` for one. */
export const DATASTREAM_FAMILY = 'datastream';

/** A message with its bytes, made once for all of its site's topics. */
interface Outgoing extends SiteMessage {
  readonly bytes: Buffer;
}

/** The close code of a client whose site is not allowed (policy violation). */
const WS_POLICY = 1008;

/** After a failed queue command, the next try starts this much later (ms). */
const RETRY_MS = 1_000;
/** How often the queue's lag is read for the metrics and the status page. */
const LAG_EVERY_MS = 1_000;
/** Most entries acknowledged in one XACK. */
const ACK_BATCH = 500;
/** Most entries one claim pass takes, the backlog of an earlier run too. */
const CLAIM_COUNT = 1_000;
/** Demo traffic on the embedded default: one round of weather a second. */
const DEMO_PERIOD_MS = 1_000;

const topicKeys = (site: string, topics: readonly string[] | undefined): string[] =>
  topics ? topics.map((t) => `${site}/${t}`) : [site];

export function datastreamProtocol(hooks: DatastreamHooks = {}): ProtocolModule<DatastreamConfig> {
  return defineProtocol({
    name: 'datastream',
    config: datastreamSchema,
    start(ctx, config) {
      const { hub, logger, metrics, scheduler } = ctx;
      const consumer = `${ctx.config.nodeName}.${randomBytes(3).toString('hex')}`;
      const store: QueueStore =
        hooks.queue ??
        (ctx.redis
          ? new RedisStreamQueue(ctx.redis, {
              key: config.key,
              group: config.group ?? `rx-streamer:${ctx.config.instanceName}`,
              consumer,
              maxLen: config.maxLen,
              deadMaxLen: config.deadMaxLen,
              blockMs: config.blockMs,
            })
          : new MemoryQueue({
              key: config.key,
              maxLen: config.maxLen,
              deadMaxLen: config.deadMaxLen,
              blockMs: config.blockMs,
            }));
      const counts = {
        delivered: 0,
        acked: 0,
        ackFailures: 0,
        redelivered: 0,
        deadLetters: 0,
        ingested: 0,
        controlErrors: 0,
      };
      let lag: QueueLag = { pending: 0, unread: 0, oldestPendingMs: 0 };
      const clients = new Set<Session>();
      let nextId = 0;

      hub.addFamily<Outgoing>(DATASTREAM_FAMILY, {
        // Messages come from the queue reader below, for the sites with clients.
        topicFeed: () => NEVER,
        encode: { ws: (m) => m.bytes },
      });

      const deliver = (m: SiteMessage) => {
        const out: Outgoing = { ...m, bytes: Buffer.from(m.frame) };
        hub.broadcast(DATASTREAM_FAMILY, m.site, out);
        hub.broadcast(DATASTREAM_FAMILY, `${m.site}/${m.topic}`, out);
        counts.delivered++;
      };

      /** Sends an entry to the dead letters; one that could not be moved stays pending and comes back. */
      const bury = (entry: QueueEntry, reason: string): Observable<never> =>
        defer(async () => {
          try {
            await store.deadLetter(entry, reason);
            counts.deadLetters++;
            logger.warn('a queue entry went to the dead letters', { id: entry.id, reason });
          } catch (err) {
            logger.error('moving an entry to the dead letters failed', {
              id: entry.id,
              error: String(err),
            });
          }
        }).pipe(ignoreElements());

      const reading: Subscription = timer(config.resumeDelayMs, scheduler)
        .pipe(
          switchMap(() =>
            queueEntries(
              store,
              {
                claimIdleMs: config.claimIdleMs,
                claimEveryMs: config.claimEveryMs,
                retryMs: RETRY_MS,
                claimCount: CLAIM_COUNT,
                onError: (what, err) =>
                  logger.warn(`queue ${what} failed; retrying`, { error: String(err) }),
              },
              scheduler,
            ),
          ),
          map((entry) => {
            if (entry.deliveries > 1) counts.redelivered++;
            return entry;
          }),
          routeEntries((e) => parseEntry(e.fields, config.maxBytes), {
            maxDeliveries: config.maxDeliveries,
          }),
          concatMap((routed: Routed<QueueEntry, SiteMessage>) => {
            if (routed.kind === 'dead') return bury(routed.entry, routed.reason);
            deliver(routed.message);
            return of(routed.entry.id);
          }),
          // The hub writes at the end of the turn; the acknowledgement comes after.
          acknowledge((ids) => store.ack(ids), { maxBatch: ACK_BATCH, windowMs: 0 }, scheduler),
        )
        .subscribe((result) => {
          if (result.error === undefined) counts.acked += result.items.length;
          else {
            counts.ackFailures += result.items.length;
            logger.warn('acknowledging queue entries failed; they will be delivered again', {
              entries: result.items.length,
              error:
                result.error instanceof Error ? result.error.message : JSON.stringify(result.error),
            });
          }
        });

      const lagging = interval(LAG_EVERY_MS, scheduler)
        .pipe(startWith(0))
        .subscribe(() => {
          store.lag().then(
            (l) => (lag = l),
            () => undefined,
          );
        });

      const allowed = authorizer<SiteClient>({
        authenticators: hooks.authenticators,
        defaultAuthenticator: hooks.defaultAuthenticator,
        timeoutMs: config.authTimeoutMs,
        logger,
      });

      mountIngest(ctx.router, {
        path: config.path,
        store,
        maxBytes: config.maxBytes,
        apiKey: config.apiKey,
        logger,
        enqueued: () => counts.ingested++,
      });

      const fail = (c: Session, content: string) => {
        counts.controlErrors++;
        c.sendText(controlError(content));
      };

      /** A client's site and topics, as they are in the hub. */
      interface Subscribed {
        site: string;
        topics: readonly string[] | undefined;
      }

      const switchTo = async (
        c: Session,
        client: SiteClient,
        now: Subscribed,
        next: SiteAction,
      ): Promise<boolean> => {
        const topics = 'topics' in next ? next.topics : now.topics;
        if (!(await allowed({ client, action: 'subscribe', channel: next.site }))) {
          fail(c, `not allowed to subscribe to site ${next.site}`);
          return false;
        }
        if (c.closed) return false;
        for (const key of topicKeys(next.site, topics)) {
          const refused = hub.topicRefusal(DATASTREAM_FAMILY, key);
          if (refused) {
            fail(c, refused.message);
            return false;
          }
        }
        for (const key of topicKeys(now.site, now.topics)) hub.leave(c, DATASTREAM_FAMILY, key);
        for (const key of topicKeys(next.site, topics)) hub.join(c, DATASTREAM_FAMILY, key);
        now.site = next.site;
        now.topics = topics;
        c.sendText(controlMessage(`Subscribed to site ${next.site}`));
        return true;
      };

      const handshake = (query: URLSearchParams): SiteAction | StreamerError => {
        const site = query.get('site') ?? undefined;
        const problem = siteProblem(site);
        if (problem || site === undefined)
          return new StreamerError(
            'RXS_ERR_BAD_REQUEST',
            `?site=<site> is required: ${problem}`,
            400,
          );
        const topics = readTopics(query.get('topics') ?? undefined, config.maxTopics);
        if ('problem' in topics)
          return new StreamerError('RXS_ERR_BAD_REQUEST', topics.problem, 400);
        return { site, topics: topics.topics };
      };

      ctx.sessions.serve(config.path, {
        accept: (request) => {
          const wanted = handshake(request.query);
          return wanted instanceof StreamerError ? wanted : undefined;
        },
        connect: (c) => {
          const wanted = handshake(c.request.query) as SiteAction;
          // Nothing is joined until the first site is allowed.
          const now: Subscribed = { site: wanted.site, topics: [] };
          const client: SiteClient = {
            id: String(++nextId),
            request: c.request,
            site: () => now.site,
            topics: () => now.topics,
            send: (frame) => c.sendText(toJson(frame)),
            close: (code, reason) => c.close(code, reason),
          };
          clients.add(c);
          c.whenEnded(() => clients.delete(c));
          c.describe = () => ({ site: now.site, topics: now.topics ?? 'all' });
          // Frames are handled in order, so a switch never overtakes the one before it.
          let turn: Promise<unknown> = switchTo(c, client, now, wanted).then((ok) => {
            if (!ok) c.close(WS_POLICY, 'site not allowed');
          });
          return {
            message: (frame) => {
              if (typeof frame !== 'string') return fail(c, 'frames must be text (JSON)');
              const parsed = parseAction(frame, config.maxTopics);
              if ('error' in parsed) return fail(c, parsed.error);
              turn = turn
                .then(() => switchTo(c, client, now, parsed.action))
                .catch((err: unknown) => {
                  logger.error('switching site failed', { error: String(err) });
                  fail(c, 'the server could not switch site');
                });
            },
          };
        },
      });

      // The embedded default: demo sites fed through the same queue.
      const demo = ctx.demo
        ? demoSiteMessages(DEMO_PERIOD_MS, Math.random, scheduler).subscribe((m) => {
            store
              .enqueue({ site: m.site, topic: m.topic, data: JSON.stringify(m.data) })
              .catch((err: unknown) =>
                logger.warn('the demo sites could not enqueue a message', { error: String(err) }),
              );
          })
        : undefined;

      metrics.gauge('datastream.clients', 'Site stream clients connected', () => clients.size);
      metrics.gauge(
        'datastream.pending',
        'Queue entries read and not acknowledged',
        () => lag.pending,
      );
      metrics.gauge(
        'datastream.unread',
        'Queue entries this instance has not read yet',
        () => lag.unread ?? 0,
      );
      metrics.gauge(
        'datastream.oldest_pending_ms',
        'Age of the oldest entry read and not acknowledged (ms)',
        () => lag.oldestPendingMs,
      );
      metrics.countersOf(counts, [
        ['datastream.delivered', 'Queue entries handed to their site’s clients', 'delivered'],
        ['datastream.acked', 'Queue entries acknowledged', 'acked'],
        ['datastream.ack_failures', 'Entries whose acknowledgement failed', 'ackFailures'],
        ['datastream.redelivered', 'Entries read again after a failed delivery', 'redelivered'],
        ['datastream.dead_letters', 'Entries moved to the dead-letter stream', 'deadLetters'],
        ['datastream.ingested', 'Messages enqueued through POST', 'ingested'],
        ['datastream.control_errors', 'Control errors sent to site clients', 'controlErrors'],
      ]);

      return {
        ready: () => store.readiness?.() ?? { ready: true },
        status: () => ({
          datastream_clients: clients.size,
          datastream_queue: {
            key: store.key,
            pending: lag.pending,
            unread: lag.unread,
            oldest_pending_ms: lag.oldestPendingMs,
            delivered: counts.delivered,
            acked: counts.acked,
            redelivered: counts.redelivered,
            dead_letters: counts.deadLetters,
          },
        }),
        close: async () => {
          demo?.unsubscribe();
          lagging.unsubscribe();
          reading.unsubscribe();
          await store.close();
        },
      };
    },
  });
}

/** Site streams with no authenticator: any client may follow any site. */
export const datastream = datastreamProtocol();

export type { DatastreamConfig } from './config.js';
export type * from './hooks.js';
export { DEMO_SITES } from './demoSites.js';
export { parseEntry, siteFrame } from './wire.js';
