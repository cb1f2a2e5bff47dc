// WebSocket pub/sub (realtime-magic) as a protocol module: clients subscribe,
// unsubscribe and publish with JSON actions at PUBSUB_PATH, over a WebSocket or
// SockJS at PUBSUB_PATH/. A channel is a hub topic fed by the shared source
// (Redis channel `<prefix><channel>`), so each message is encoded and framed
// once for all its subscribers on this instance; a client's publish goes out
// through the publisher (Redis PUBLISH), so every instance's subscribers get
// it, exactly once each. The application's hooks (see hooks.ts) decide who may
// do what and what a publish becomes.
import { defineProtocol } from '../protocol.js';
import type { ProtocolModule } from '../protocol.js';
import { chatRoomHooks } from './chatRoom.js';
import { pubsubSchema } from './config.js';
import type { PubsubConfig } from './config.js';
import type { PubsubHooks } from './hooks.js';
import { PUBSUB_FAMILY, PubsubService } from './PubsubService.js';
import { PubsubSession } from './PubsubSession.js';

/**
 * The pub/sub protocol with the application's hooks. Without any, on the
 * embedded bus (`npm start` with no Redis), it serves the chat example's
 * (chatRoom.ts) so /examples/chat.html works out of the box.
 */
export function pubsubProtocol(appHooks?: PubsubHooks): ProtocolModule<PubsubConfig> {
  return defineProtocol({
    name: 'pubsub',
    config: pubsubSchema,
    unauthenticated: () =>
      appHooks?.authenticators?.length || appHooks?.defaultAuthenticator
        ? undefined
        : 'anyone may subscribe and publish on any channel without authenticators (pubsubProtocol({ authenticators, defaultAuthenticator }))',
    start(ctx, config) {
      const hooks = appHooks ?? (ctx.demo ? chatRoomHooks() : {});
      const service = new PubsubService(ctx, config, hooks, (client, channel) => {
        if (client instanceof PubsubSession) client.publishFailed(channel);
      });
      // SockJS passes on only some headers (never cookies), so authenticators that
      // read cookies deny its clients; a query works on every transport.
      ctx.sessions.serve(config.path, {
        connect: (session) => new PubsubSession(session, service),
      });

      const { hub, metrics } = ctx;
      const clients = () => hub.sessionCount(config.path);
      metrics.gauge('pubsub.clients', 'WebSocket pub/sub clients connected', clients);
      metrics.gauge('pubsub.channels', 'Pub/sub channels with a subscriber here', () =>
        hub.topicCount(PUBSUB_FAMILY),
      );
      metrics.countersOf(service.counts, [
        ['pubsub.frames.in', 'Frames received from pub/sub clients', 'in'],
        ['pubsub.published', 'Publishes sent on to the bus (after the push traps)', 'published'],
        ['pubsub.denied', 'Subscribes and publishes an authenticator denied', 'denied'],
        ['pubsub.monitored', 'Messages the monitors put on channels', 'monitored'],
        ['pubsub.control_errors', 'Control errors sent to pub/sub clients', 'controlErrors'],
      ]);

      return {
        status: () => ({
          pubsub_clients: clients(),
          pubsub_channels: hub.topicCount(PUBSUB_FAMILY),
        }),
        close: () => service.close(),
      };
    },
  });
}

/** WebSocket pub/sub with no hooks: anyone may subscribe and publish. */
export const pubsub = pubsubProtocol();

export { PUBSUB_FAMILY } from './PubsubService.js';
export type { PubsubConfig } from './config.js';
export type * from './hooks.js';
export { parseCookies } from '../../transports/http/cookies.js';
export { chatRoomHooks, CHAT_NAME } from './chatRoom.js';
export { channelMessage, controlError, controlMessage, parseFrame } from './wire.js';
