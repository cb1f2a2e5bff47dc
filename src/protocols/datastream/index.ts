// Site streams (datastreamer) as a protocol module: services enqueue
// `{site, topic, data}` on a durable queue (a Redis Stream, XADD or POST), and
// every client connected for that site at DATASTREAM_PATH (a WebSocket, or
// SockJS at DATASTREAM_PATH/) receives each one. Every instance reads the
// stream through a consumer group of its own, so each serves every message to
// its own clients, and a restarted instance resumes where its group stopped.
// An entry is acknowledged once its frames are on every local client's socket
// of its site; one that cannot be read, or that keeps failing, goes to
// `<key>:dead` with the reason (see readQueue.ts). Each frame carries its entry
// id, and every instance keeps the site's recent frames under those ids (the
// site history), so a client that reconnects with `lastEventId` anywhere gets
// what it missed (see SiteSession.resume()).
import { randomBytes } from 'node:crypto';
import { interval, startWith } from 'rxjs';
import { StreamerError } from '../../core/errors.js';
import { defineProtocol } from '../protocol.js';
import type { ProtocolModule } from '../protocol.js';
import { MemoryQueue } from '../../sources/MemoryQueue.js';
import type { QueueLag, QueueStore } from '../../sources/QueueStore.js';
import { RedisStreamQueue } from '../../sources/RedisStreamQueue.js';
import { siteHistoryFor } from '../../sources/siteHistoryFor.js';
import { authorizer } from '../authorize.js';
import { datastreamSchema } from './config.js';
import type { DatastreamConfig } from './config.js';
import { DeliveredPosition } from './DeliveredPosition.js';
import { demoSiteMessages } from './demoSites.js';
import type { DatastreamHooks, SiteClient } from './hooks.js';
import { mountIngest } from './ingest.js';
import { readQueue } from './readQueue.js';
import type { Outgoing } from './readQueue.js';
import { DATASTREAM_FAMILY, SiteSession } from './SiteSession.js';
import { handshake } from './handshake.js';
import type { Handshake } from './handshake.js';

export { DATASTREAM_FAMILY } from './SiteSession.js';

/** How often the queue's lag is read for the metrics and the status page. */
const LAG_EVERY_MS = 1_000;
/** Demo traffic on the embedded default: one round of weather a second. */
const DEMO_PERIOD_MS = 1_000;
/**
 * How long a client resuming from an entry this instance has not delivered yet
 * (it got it from a faster instance) waits for this one to, before it is told
 * it is not recovered.
 */
const CATCH_UP_MS = 2_000;

export function datastreamProtocol(hooks: DatastreamHooks = {}): ProtocolModule<DatastreamConfig> {
  return defineProtocol({
    name: 'datastream',
    config: datastreamSchema,
    unauthenticated: (config) =>
      config.apiKey === undefined
        ? `anyone may enqueue with POST ${config.path}/messages without DATASTREAM_API_KEY`
        : undefined,
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
              maxBytes: config.memoryBytes,
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
        recovered: 0,
        unrecovered: 0,
      };
      const history =
        hooks.history ??
        siteHistoryFor(ctx.redis, {
          size: ctx.config.historySize,
          ttlS: ctx.config.historyTtlS,
          onError: (err) => logger.warn('writing the site history failed', { error: String(err) }),
        });
      const delivered = new DeliveredPosition();
      let lag: QueueLag = { pending: 0, unread: 0, oldestPendingMs: 0 };

      // Messages are pushed by the queue reader, for the sites with clients.
      hub.addFamily<Outgoing>(DATASTREAM_FAMILY, {
        pushed: true,
        encode: { ws: (m) => m.bytes },
        maxTopics: { count: config.maxSiteTopics, variable: 'DATASTREAM_MAX_SITE_TOPICS' },
      });
      const reading = readQueue(store, hub, config, counts, logger, scheduler, {
        history,
        delivered,
      });

      const lagging = interval(LAG_EVERY_MS, scheduler)
        .pipe(startWith(0))
        .subscribe(() => {
          store.lag().then(
            (l) => (lag = l),
            () => undefined,
          );
        });

      mountIngest(ctx.router, {
        path: config.path,
        store,
        maxBytes: config.maxBytes,
        apiKey: config.apiKey,
        logger,
        enqueued: () => counts.ingested++,
      });

      const shared = {
        hub,
        counts,
        maxTopics: config.maxTopics,
        allowed: authorizer<SiteClient>({
          authenticators: hooks.authenticators,
          defaultAuthenticator: hooks.defaultAuthenticator,
          timeoutMs: config.authTimeoutMs,
          logger,
        }),
        log: (message: string, error: string) => logger.error(message, { error }),
        recovery: {
          history,
          delivered,
          max: ctx.config.recoveryMax,
          catchUpMs: CATCH_UP_MS,
          scheduler,
        },
      };
      ctx.sessions.serve(config.path, {
        accept: (request) => {
          const wanted = handshake(request.query, config.maxTopics);
          return wanted instanceof StreamerError ? wanted : undefined;
        },
        connect: (session) => {
          const { lastEventId, ...first } = handshake(
            session.request.query,
            config.maxTopics,
          ) as Handshake;
          return new SiteSession(session, shared, first, lastEventId);
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

      const clients = () => hub.sessionCount(config.path);
      metrics.gauge('datastream.clients', 'Site stream clients connected', clients);
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
        ['datastream.recovered', 'Reconnecting clients given all they missed', 'recovered'],
        [
          'datastream.unrecovered',
          'Reconnecting clients told they could not be given all they missed',
          'unrecovered',
        ],
      ]);

      return {
        ready: () => store.readiness?.() ?? { ready: true },
        status: () => ({
          datastream_clients: clients(),
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
export { MemorySiteHistory } from '../../sources/MemorySiteHistory.js';
export { RedisSiteHistory } from '../../sources/RedisSiteHistory.js';
export type { SiteHistory, SiteHistoryEntry, SiteRecovery } from '../../sources/SiteHistory.js';
