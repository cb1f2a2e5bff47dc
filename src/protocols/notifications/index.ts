// Per-user notification streams (Sisyphus) as a protocol module: each user gets
// the messages of the channels in their set `user:<id>:channels`, re-read live
// as it changes, over SSE at NOTIFY_PATH. Channels are hub topics fed by the
// shared pub/sub source, so a thousand users of `room:1` are one Redis
// subscription and each message is encoded once for all of them. Each event's
// id is the stream's position on every channel; a stream that comes back with
// it (Last-Event-ID) gets what each channel missed right after `ok`, or
// `event:unrecovered` saying which it cannot; a channel whose messages were
// lost on their way here ends its streams, and they come back to recover.
import { interval, map, tap } from 'rxjs';
import { defineProtocol } from '../protocol.js';
import type { ProtocolModule } from '../protocol.js';
import type { BusMessage } from '../../core/message.js';
import { watchGaps } from '../../operators/watchGaps.js';
import { sseRetry } from '../../transports/sse/sseEncode.js';
import { after, channelStart } from '../channelStart.js';
import { ownCopy } from '../../fanout/Connection.js';
import type { Connection } from '../../fanout/Connection.js';
import { MemoryChannelSets, redisChannelSets } from './channelSets.js';
import type { ChannelSetStore } from './channelSets.js';
import { notificationsSchema } from './config.js';
import type { NotificationsConfig } from './config.js';
import { notificationsDemo } from './demoFeed.js';
import {
  NOOP_EVENT,
  failureEvent,
  messageEvent,
  streamStatus,
  unrecoveredEvent,
} from './events.js';
import type { StreamStatus } from './events.js';
import { CHANNELS_FAMILY, NOTIFY_FAMILY, notificationStreams } from './streams.js';
import type { Refusal, Resume } from './streams.js';
import type { StreamPosition } from './streamPosition.js';
import { userSession } from './userSession.js';

export interface NotificationsOptions {
  /**
   * Where users' channel sets are read: Redis (`SMEMBERS user:<id>:channels`) on
   * the server's command connection by default, an in-memory store on the
   * embedded bus.
   */
  readonly store?: ChannelSetStore;
}

/** After an `error`, clients come back between these delays (ms), spread out. */
const ERROR_RETRY_MS = [1_000, 5_000] as const;

const UNKNOWN_USER: Refusal = { reason: 'unknown-user' };

/** How much of a user id a log line keeps: a bad one can be anything a URL holds. */
const LOGGED_USER_LENGTH = 64;

export function notificationsProtocol(
  options: NotificationsOptions = {},
): ProtocolModule<NotificationsConfig> {
  return defineProtocol({
    name: 'notifications',
    config: notificationsSchema,
    unauthenticated: (config) =>
      config.tokenSecret === undefined
        ? 'any user id opens that user’s stream without TOKEN_SECRET'
        : undefined,
    start(ctx, config) {
      const { hub, source, scheduler, logger, metrics, history } = ctx;
      const demoStore = ctx.demo && !options.store ? new MemoryChannelSets() : undefined;
      const redisStore = ctx.redis ? redisChannelSets(ctx.redis) : undefined;
      const sets = options.store ?? demoStore ?? redisStore;
      if (!sets) logger.warn('no channel-set store (no Redis connection): every user is unknown');
      const store = sets ?? new MemoryChannelSets();
      const counts = {
        forwarded: 0,
        refreshes: 0,
        ok: 0,
        failure: 0,
        error: 0,
        disconnected: 0,
        recovered: 0,
        unrecovered: 0,
        gaps: 0,
      };
      const retryAfterError = () => {
        const [min, max] = ERROR_RETRY_MS;
        return min + Math.random() * (max - min);
      };

      hub.addFamily(NOTIFY_FAMILY, {
        feed: interval(config.noopMs, scheduler).pipe(map(() => 'noop')),
        encode: { sse: () => NOOP_EVENT },
      });
      // Messages lost before they got here (an offset skipped): the channel's
      // streams end, after what they were due, and come back to recover them.
      const lost = (channel: string) => {
        counts.gaps++;
        const streams = hub.sessionsIn(CHANNELS_FAMILY, channel);
        logger.warn(
          'messages on a channel were lost on their way here; its streams end to recover',
          {
            channel,
            streams: streams.length,
          },
        );
        for (const connection of streams) {
          hub.flush(connection);
          connection.send([sseRetry(retryAfterError())]);
          connection.end();
        }
      };
      // The sessions told of a user channel's messages (see userSession's `hear`).
      const hearing = new Map<string, Set<() => void>>();
      const hear = (channel: string, heard: () => void) => {
        let hearers = hearing.get(channel);
        if (!hearers) hearing.set(channel, (hearers = new Set()));
        hearers.add(heard);
        return () => {
          hearers.delete(heard);
          if (hearers.size === 0 && hearing.get(channel) === hearers) hearing.delete(channel);
        };
      };
      hub.addFamily<BusMessage>(CHANNELS_FAMILY, {
        topicFeed: (channel) =>
          source.channel(channel).pipe(
            watchGaps(() => lost(channel)),
            tap(() => {
              counts.forwarded++;
              const hearers = hearing.get(channel);
              if (hearers) for (const heard of hearers) heard();
            }),
          ),
        encode: { sse: messageEvent },
        // Each event's id is the stream's position, read from the message as it is written.
        framesNeedMessages: true,
      });

      const finish = (connection: Connection, status: StreamStatus) => {
        counts[status]++;
        const retry = status === 'error' ? retryAfterError() : undefined;
        // Its last messages first: the one that emptied the set, say.
        if (status !== 'ok') hub.flush(connection);
        connection.send([streamStatus(status, retry)]);
        if (status !== 'ok') connection.end();
      };
      // Every failure says why, to the operator and to the client (a comment
      // line); the token is in neither, only which way it was bad.
      const fail = (connection: Connection, user: string, refusal: Refusal) => {
        counts.failure++;
        logger.info('notification stream failure', {
          reason: refusal.reason,
          ...(refusal.detail ? { detail: refusal.detail } : {}),
          user: user.length > LOGGED_USER_LENGTH ? `${user.slice(0, LOGGED_USER_LENGTH)}…` : user,
          clientIp: connection.info.clientIp,
        });
        hub.flush(connection);
        connection.send([failureEvent(refusal.reason)]);
        connection.end();
      };

      const opened = (
        connection: Connection,
        user: string,
        position: StreamPosition,
        resumeFrom: Resume,
      ) => {
        const listed = ownCopy(user);
        connection.describe = () => ({ user: listed });
        // What the id it came back with cannot give it, said right after `ok`.
        let resume = resumeFrom;
        const unrecovered: string[] = [];
        // Joined held; released, after `ok`, with what it missed since its position.
        const join = async (channel: string) => {
          const held = hub.hold<BusMessage>(connection, CHANNELS_FAMILY, channel);
          if (!held) return undefined;
          if (!history) return () => held.release([], () => true);
          const since = typeof resume === 'object' ? resume.get(channel) : undefined;
          const start = await channelStart(history, source, channel, since, ctx.config.recoveryMax);
          if (resume !== undefined && start.recovered !== true) unrecovered.push(channel);
          position.set(channel, since && start.recovered ? since : start.top);
          return () => held.release(start.missed, after(start.top));
        };
        const resumed = () => {
          if (resume === undefined) return;
          const unknown = resume === 'unknown';
          resume = undefined;
          if (unrecovered.length === 0) return void counts.recovered++;
          counts.unrecovered++;
          connection.send([
            unrecoveredEvent(
              unknown
                ? 'the Last-Event-ID is not a position of this server'
                : 'what these channels missed is no longer in their history (HISTORY_SIZE, HISTORY_TTL_S, RECOVERY_MAX), or they were not in the position',
              unrecovered,
            ),
          ]);
        };
        const session = userSession({
          user,
          store,
          source,
          join,
          hear,
          leave: (channel) => {
            hub.leave(connection, CHANNELS_FAMILY, channel);
            position.delete(channel);
          },
          timeoutMs: config.redisTimeoutMs,
          refreshed: () => counts.refreshes++,
          scheduler,
        }).subscribe({
          next: (status) => {
            // The only failure once the user checked out: no set in Redis.
            if (status === 'failure') return fail(connection, user, UNKNOWN_USER);
            if (status === 'ok') position.live();
            finish(connection, status);
            if (status === 'ok') resumed();
          },
          error: (err: unknown) => {
            logger.error('notification stream failed', { user, error: String(err) });
            finish(connection, 'error');
          },
        });
        connection.whenEnded(() => session.unsubscribe());
      };
      ctx.streams.add(config.path, notificationStreams(config, { opened, refused: fail }), {
        exact: true,
      });

      metrics.gauge('notify.users', 'Users with a notification stream open', () =>
        hub.clientCount(NOTIFY_FAMILY),
      );
      metrics.gauge('notify.channels', 'Channels subscribed for notification streams', () =>
        hub.topicCount(CHANNELS_FAMILY),
      );
      metrics.counter(
        'notify.messages.forwarded',
        'Channel messages taken for notification streams (once per message, however many users get it)',
        () => counts.forwarded,
      );
      metrics.counter(
        'notify.refreshes',
        'Channel sets read again after a message on a user channel',
        () => counts.refreshes,
      );
      for (const status of ['ok', 'failure', 'error', 'disconnected'] as const) {
        metrics.counter(
          `notify.status.${status}`,
          `Notification streams sent "${status}"`,
          () => counts[status],
        );
      }
      metrics.countersOf(counts, [
        [
          'notify.resumed.recovered',
          'Streams back with a position that got all they missed',
          'recovered',
        ],
        [
          'notify.resumed.unrecovered',
          'Streams back with a position told event:unrecovered',
          'unrecovered',
        ],
        [
          'notify.gaps',
          'Channels whose messages were lost on their way here (their streams ended to recover)',
          'gaps',
        ],
      ]);

      // The demo publishes with history where there is one, so its streams resume too.
      const demoPublish = (channel: string, payload: string) =>
        history ? history.publish(channel, payload) : ctx.publisher?.publish(channel, payload);
      const feeding =
        demoStore && ctx.publisher
          ? notificationsDemo({ store: demoStore, scheduler }).subscribe((p) => {
              void demoPublish(p.channel, p.payload);
            })
          : undefined;
      return {
        status: () => ({
          notify_users: hub.clientCount(NOTIFY_FAMILY),
          notify_channels: hub.topicCount(CHANNELS_FAMILY),
        }),
        close: () => feeding?.unsubscribe(),
      };
    },
  });
}

/** Per-user notification streams with the library defaults. */
export const notifications = notificationsProtocol();

export type { NotificationsConfig } from './config.js';
export type { ChannelSetStore } from './channelSets.js';
export { MemoryChannelSets, channelSetKey, redisChannelSets } from './channelSets.js';
export { mintToken, verifyToken } from './token.js';
export type { TokenCheck } from './token.js';
