// Type-checked with the project (npm run typecheck), never run: the browser
// client's declarations (public/clients/pubsub.d.ts) as a TypeScript user meets them.
import { connect } from '../../public/clients/pubsub.js';
import type { ChannelMessage, ConnectionState, PubsubClient } from '../../public/clients/pubsub.js';

export function usage(): PubsubClient {
  const client = connect('/pubsub', { minDelayMs: 250, maxDelayMs: 10_000, maxQueued: 100 });
  const off = client.on('message', ({ channel, message }: ChannelMessage) => {
    console.log(channel, message);
  });
  client.on('control', ({ content, error }) => error && console.warn(content.toUpperCase()));
  client.on('state', (state: ConnectionState) => state === 'open' && off());
  client.subscribe('chat.lobby');
  client.publish('chat.lobby', { text: 'hi' });
  client.send({ type: 'who' });
  const held: readonly string[] = client.channels;
  if (held.length > 10) client.close();
  // @ts-expect-error: an event the client does not have
  client.on('nonsense', () => undefined);
  return client;
}
