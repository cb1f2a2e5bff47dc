// WebSocket pub/sub (realtime-magic) as a protocol module: clients subscribe,
// unsubscribe and publish with JSON actions at PUBSUB_PATH. A channel is a hub
// topic fed by the shared source (Redis channel `<prefix><channel>`), so each
// message is encoded and framed once for all its subscribers on this instance;
// a client's publish goes out through the publisher (Redis PUBLISH), so every
// instance's subscribers get it, exactly once each.
import { firstValueFrom, of, timeout } from 'rxjs';
import { defineProtocol } from '../../core/protocol.js';
import type { ProtocolModule } from '../../core/protocol.js';
import type { BusMessage } from '../../core/message.js';
import type { WsConnection } from '../../transports/ws/WsConnection.js';
import { pubsubSchema } from './config.js';
import type { PubsubConfig } from './config.js';
import { channelMessage, controlError, controlMessage, parseFrame } from './wire.js';
import type { ClientAction } from './wire.js';

/** The hub family of the pub/sub channels, one topic per channel. */
export const PUBSUB_FAMILY = 'pubsub';

export function pubsubProtocol(): ProtocolModule<PubsubConfig> {
  return defineProtocol({
    name: 'pubsub',
    config: pubsubSchema,
    start(ctx, config) {
      const { hub, source, publisher, logger, metrics, scheduler } = ctx;
      const counts = { in: 0, published: 0, controlErrors: 0 };
      const redisChannel = (channel: string) => `${config.redisPrefix}${channel}`;

      hub.addFamily<BusMessage>(PUBSUB_FAMILY, {
        topicFeed: (channel) => source.channel(redisChannel(channel)),
        encode: {
          ws: (m) => channelMessage(m.channel.slice(config.redisPrefix.length), m.payload),
        },
      });

      const channelsOf = (c: WsConnection): string[] =>
        [...c.topics].filter((t) => t.family === PUBSUB_FAMILY).map((t) => t.key);

      const fail = (c: WsConnection, content: string) => {
        counts.controlErrors++;
        c.sendText(controlError(content));
      };

      const subscribe = async (c: WsConnection, channel: string) => {
        if (!c.isIn(PUBSUB_FAMILY, channel) && channelsOf(c).length >= config.maxChannels) {
          return fail(
            c,
            `at most ${config.maxChannels} channels at once: unsubscribe from one first`,
          );
        }
        hub.join(c, PUBSUB_FAMILY, channel);
        // Acknowledged once Redis has the subscription: a publish after the reply arrives.
        try {
          await firstValueFrom(
            (source.live?.(redisChannel(channel)) ?? of(undefined)).pipe(
              timeout({ first: config.subscribeTimeoutMs, scheduler }),
            ),
          );
        } catch {
          hub.leave(c, PUBSUB_FAMILY, channel);
          return fail(c, `subscribing to ${channel} timed out; try again`);
        }
        if (c.isIn(PUBSUB_FAMILY, channel)) c.sendText(controlMessage(`Subscribed to ${channel}`));
      };

      const act = async (c: WsConnection, action: ClientAction) => {
        switch (action.action) {
          case 'subscribe':
            return subscribe(c, action.channel);
          case 'unsubscribe':
            hub.leave(c, PUBSUB_FAMILY, action.channel);
            return c.sendText(controlMessage(`Unsubscribed from ${action.channel}`));
          case 'publish': {
            if (!publisher) return fail(c, 'publishing is not available on this server');
            counts.published++;
            await publisher.publish(redisChannel(action.channel), JSON.stringify(action.message));
            return undefined;
          }
        }
      };

      const onFrame = (c: WsConnection, data: Buffer, isBinary: boolean) => {
        counts.in++;
        if (isBinary) return fail(c, 'frames must be text (JSON)');
        const parsed = parseFrame(data.toString('utf8'));
        if (!parsed.ok) return fail(c, parsed.error);
        act(c, parsed.action).catch((err: unknown) => {
          logger.error('a pub/sub action failed', {
            action: parsed.action.action,
            error: String(err),
          });
          fail(c, `${parsed.action.action} failed on the server; try again`);
        });
      };

      const clients = new Set<WsConnection>();
      ctx.ws.add(config.path, {
        connected: (c) => {
          clients.add(c);
          c.whenEnded(() => clients.delete(c));
          c.describe = () => ({ channels: channelsOf(c) });
          c.ws.on('message', (data: Buffer, isBinary: boolean) => onFrame(c, data, isBinary));
        },
      });

      metrics.gauge('pubsub.clients', 'WebSocket pub/sub clients connected', () => clients.size);
      metrics.gauge('pubsub.channels', 'Pub/sub channels with a subscriber here', () =>
        hub.topicCount(PUBSUB_FAMILY),
      );
      metrics.counter('pubsub.frames.in', 'Frames received from pub/sub clients', () => counts.in);
      metrics.counter(
        'pubsub.published',
        'Client publishes sent on to the bus',
        () => counts.published,
      );
      metrics.counter(
        'pubsub.control_errors',
        'Control errors sent to pub/sub clients',
        () => counts.controlErrors,
      );

      return {
        status: () => ({
          pubsub_clients: clients.size,
          pubsub_channels: hub.topicCount(PUBSUB_FAMILY),
        }),
      };
    },
  });
}

/** WebSocket pub/sub with the library defaults. */
export const pubsub = pubsubProtocol();

export type { PubsubConfig } from './config.js';
export { channelMessage, controlError, controlMessage, parseFrame } from './wire.js';
