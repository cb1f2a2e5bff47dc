// WebSocket pub/sub (realtime-magic) as a protocol module: clients subscribe,
// unsubscribe and publish with JSON actions at PUBSUB_PATH. A channel is a hub
// topic fed by the shared source (Redis channel `<prefix><channel>`), so each
// message is encoded and framed once for all its subscribers on this instance;
// a client's publish goes out through the publisher (Redis PUBLISH), so every
// instance's subscribers get it, exactly once each. The application's hooks
// (see hooks.ts) decide who may do what and what a publish becomes.
import {
  Subject,
  catchError,
  firstValueFrom,
  forkJoin,
  map,
  merge,
  of,
  pipe,
  switchMap,
  take,
  timeout,
  timer,
} from 'rxjs';
import type { Observable, OperatorFunction, Subscription } from 'rxjs';
import type { BusMessage } from '../../core/message.js';
import { defineProtocol } from '../../core/protocol.js';
import type { ProtocolModule } from '../../core/protocol.js';
import type { Session } from '../../core/session.js';
import { authorizer } from '../authorize.js';
import { chatRoomHooks } from './chatRoom.js';
import { pubsubSchema } from './config.js';
import type { PubsubConfig } from './config.js';
import type { ClientPublish, PubsubClient, PubsubHooks } from './hooks.js';
import {
  channelMessage,
  channelProblem,
  controlError,
  controlMessage,
  parseFrame,
  toJson,
} from './wire.js';
import type { ClientAction } from './wire.js';

/** The hub family of the pub/sub channels, one topic per channel. */
export const PUBSUB_FAMILY = 'pubsub';

/** After a monitor fails, it is subscribed again this much later (ms). */
const MONITOR_RETRY_MS = 1_000;

/**
 * The pub/sub protocol with the application's hooks. Without any, on the
 * embedded bus (`npm start` with no Redis), it serves the chat example's
 * (chatRoom.ts) so /examples/chat.html works out of the box.
 */
export function pubsubProtocol(appHooks?: PubsubHooks): ProtocolModule<PubsubConfig> {
  return defineProtocol({
    name: 'pubsub',
    config: pubsubSchema,
    start(ctx, config) {
      const hooks = appHooks ?? (ctx.demo ? chatRoomHooks() : {});
      const { hub, source, publisher, logger, metrics, scheduler } = ctx;
      const counts = { in: 0, published: 0, controlErrors: 0, denied: 0, monitored: 0 };
      const redisChannel = (channel: string) => `${config.redisPrefix}${channel}`;
      const clients = new Set<Session>();
      let nextId = 0;

      // With Postgres, `NOTIFY c, 'payload'` reaches channel c too: LISTEN while c has subscribers.
      const { postgres } = ctx;
      const fromPostgres = (channel: string) =>
        postgres !== undefined &&
        (config.pgChannels === '*' || config.pgChannels.includes(channel));
      const feed = (channel: string): Observable<BusMessage> => {
        const redis = source.channel(redisChannel(channel));
        if (!postgres || !fromPostgres(channel)) return redis;
        return merge(
          redis,
          postgres
            .channel(channel)
            .pipe(map((n): BusMessage => ({ ...n, channel: redisChannel(channel) }))),
        );
      };
      const live = (channel: string): Observable<unknown> => {
        const redis = source.live?.(redisChannel(channel)) ?? of(undefined);
        return postgres && fromPostgres(channel)
          ? forkJoin([redis.pipe(take(1)), postgres.live(channel).pipe(take(1))])
          : redis;
      };

      hub.addFamily<BusMessage>(PUBSUB_FAMILY, {
        topicFeed: feed,
        encode: {
          ws: (m) => channelMessage(m.channel.slice(config.redisPrefix.length), m.payload),
        },
      });

      const channelsOf = (c: Session): string[] => hub.topicsOf(c, PUBSUB_FAMILY);

      const fail = (c: Session, content: string) => {
        counts.controlErrors++;
        c.sendText(controlError(content));
      };

      /** Every check that applies must allow; a throw, a rejection or a timeout denies. */
      const allowed = authorizer({
        ...hooks,
        timeoutMs: config.authTimeoutMs,
        logger,
      });

      const publishOut = async (channel: string, message: unknown) => {
        if (!publisher) throw new Error('publishing is not available on this server');
        counts.published++;
        await publisher.publish(redisChannel(channel), toJson(message));
      };

      // Client publishes, through the push traps, to the bus. A trap that errors
      // is logged and the chain subscribed again, so one bad message stops nothing.
      const publishes = new Subject<ClientPublish>();
      const traps = (hooks.pushTraps ?? []).reduce<OperatorFunction<ClientPublish, ClientPublish>>(
        (chain, trap) => pipe(chain, trap),
        (p) => p,
      );
      let trapping: Subscription | undefined;
      const startTraps = () => {
        trapping = publishes.pipe(traps).subscribe({
          next: (p) => {
            const problem = channelProblem(p.channel);
            if (problem) {
              logger.warn('a push trap sent a publish to a bad channel; dropped', { problem });
              return;
            }
            publishOut(p.channel, p.message).catch((err: unknown) => {
              logger.error('a publish failed', { channel: p.channel, error: String(err) });
              const { connection } = p.client as ClientOf;
              if (!connection.closed) fail(connection, `publish to ${p.channel} failed; try again`);
            });
          },
          error: (err: unknown) => {
            logger.error('a push trap failed; the chain starts again', { error: String(err) });
            startTraps();
          },
        });
      };
      startTraps();

      const subscribe = async (c: Session, channel: string): Promise<boolean> => {
        if (!hub.isIn(c, PUBSUB_FAMILY, channel) && channelsOf(c).length >= config.maxChannels) {
          fail(c, `at most ${config.maxChannels} channels at once: unsubscribe from one first`);
          return false;
        }
        const refused = hub.topicRefusal(PUBSUB_FAMILY, channel);
        if (refused) {
          fail(c, refused.message);
          return false;
        }
        hub.join(c, PUBSUB_FAMILY, channel);
        // Acknowledged once Redis has the subscription: a publish after the reply arrives.
        try {
          await firstValueFrom(
            live(channel).pipe(timeout({ first: config.subscribeTimeoutMs, scheduler })),
          );
        } catch {
          hub.leave(c, PUBSUB_FAMILY, channel);
          fail(c, `subscribing to ${channel} timed out; try again`);
          return false;
        }
        if (!hub.isIn(c, PUBSUB_FAMILY, channel)) return false;
        c.sendText(controlMessage(`Subscribed to ${channel}`));
        return true;
      };

      const act = async (client: ClientOf, action: ClientAction) => {
        const c = client.connection;
        if (action.action === 'unsubscribe') {
          hub.leave(c, PUBSUB_FAMILY, action.channel);
          c.sendText(controlMessage(`Unsubscribed from ${action.channel}`));
          return;
        }
        const request =
          action.action === 'publish'
            ? { client, action: action.action, channel: action.channel, message: action.message }
            : { client, action: action.action, channel: action.channel };
        if (!(await allowed(request))) {
          counts.denied++;
          fail(
            c,
            `not allowed to ${action.action} ${action.action === 'publish' ? 'to ' : ''}${action.channel}`,
          );
          return;
        }
        if (c.closed) return;
        if (action.action === 'subscribe') await subscribe(c, action.channel);
        else publishes.next({ client, channel: action.channel, message: action.message });
      };

      const receive = async (client: ClientOf, frame: unknown, error: string) => {
        const receiver = (hooks.receivers ?? []).find((r) => !r.match || r.match(frame));
        if (!receiver) return fail(client.connection, error);
        const reply: unknown = await receiver.handle(frame, client);
        if (reply !== undefined) client.send(reply);
      };

      const onFrame = (client: ClientOf, text: string | Buffer) => {
        counts.in++;
        const c = client.connection;
        if (typeof text !== 'string') return fail(c, 'frames must be text (JSON)');
        const parsed = parseFrame(text);
        if (parsed.kind === 'invalid') return fail(c, parsed.error);
        // Each frame is handled on its own: a slow hook holds up no other frame or client.
        const work =
          parsed.kind === 'action'
            ? act(client, parsed.action)
            : receive(client, parsed.frame, parsed.error);
        work.catch((err: unknown) => {
          logger.error('handling a pub/sub frame failed', { error: String(err) });
          fail(c, 'the server could not handle that frame');
        });
      };

      const runHook = (
        what: string,
        hook: (client: PubsubClient) => unknown,
        client: PubsubClient,
      ) =>
        Promise.resolve()
          .then(() => hook(client))
          .catch((err: unknown) =>
            logger.error(`a pub/sub ${what} failed`, { error: String(err) }),
          );

      const clientOf = (c: Session): ClientOf => {
        const client: ClientOf = {
          connection: c,
          id: String(++nextId),
          request: c.request,
          channels: () => channelsOf(c),
          send: (frame) => c.sendText(toJson(frame)),
          subscribe: async (channel) => {
            const problem = channelProblem(channel);
            if (problem) throw new Error(problem);
            await subscribe(c, channel);
          },
          unsubscribe: (channel) => hub.leave(c, PUBSUB_FAMILY, channel),
          publish: publishOut,
          close: (code, reason) => c.close(code, reason),
        };
        return client;
      };

      // Over a WebSocket at the path, and over SockJS at <path>/ for sockjs-client and
      // realtime-magic's client. SockJS passes on only some headers (never cookies), so
      // authenticators that read cookies deny its clients; a query works everywhere.
      ctx.sessions.serve(config.path, {
        connect: (c) => {
          const client = clientOf(c);
          clients.add(c);
          c.describe = () => ({ channels: channelsOf(c) });
          // Closings run however the connection ended: a close frame, a reset, a dead peer.
          c.whenEnded(() => {
            clients.delete(c);
            for (const hook of hooks.closings ?? []) void runHook('closing', hook, client);
          });
          for (const hook of hooks.openings ?? []) void runHook('opening', hook, client);
          return { message: (frame) => onFrame(client, frame) };
        },
      });

      // Monitors feed this instance's subscribers; one that fails starts again.
      const monitoring = (hooks.monitors ?? []).map((monitor) =>
        monitor
          .pipe(
            catchError((err: unknown, again) => {
              logger.error('a pub/sub monitor failed; it starts again', { error: String(err) });
              return timer(MONITOR_RETRY_MS, scheduler).pipe(switchMap(() => again));
            }),
          )
          .subscribe(({ channel, message }) => {
            if (channelProblem(channel)) return;
            counts.monitored++;
            hub.broadcast(PUBSUB_FAMILY, channel, {
              channel: redisChannel(channel),
              payload: toJson(message),
              receivedAt: Date.now(),
            } satisfies BusMessage);
          }),
      );

      metrics.gauge('pubsub.clients', 'WebSocket pub/sub clients connected', () => clients.size);
      metrics.gauge('pubsub.channels', 'Pub/sub channels with a subscriber here', () =>
        hub.topicCount(PUBSUB_FAMILY),
      );
      metrics.countersOf(counts, [
        ['pubsub.frames.in', 'Frames received from pub/sub clients', 'in'],
        ['pubsub.published', 'Publishes sent on to the bus (after the push traps)', 'published'],
        ['pubsub.denied', 'Subscribes and publishes an authenticator denied', 'denied'],
        ['pubsub.monitored', 'Messages the monitors put on channels', 'monitored'],
        ['pubsub.control_errors', 'Control errors sent to pub/sub clients', 'controlErrors'],
      ]);

      return {
        status: () => ({
          pubsub_clients: clients.size,
          pubsub_channels: hub.topicCount(PUBSUB_FAMILY),
        }),
        close: () => {
          trapping?.unsubscribe();
          for (const m of monitoring) m.unsubscribe();
        },
      };
    },
  });
}

/** A client with its session, which only this module sees. */
interface ClientOf extends PubsubClient {
  readonly connection: Session;
}

/** WebSocket pub/sub with no hooks: anyone may subscribe and publish. */
export const pubsub = pubsubProtocol();

export type { PubsubConfig } from './config.js';
export type * from './hooks.js';
export { parseCookies } from '../../transports/http/cookies.js';
export { chatRoomHooks, CHAT_NAME } from './chatRoom.js';
export { channelMessage, controlError, controlMessage, parseFrame } from './wire.js';
