// Type-checked with the project (npm run typecheck), never run: the browser
// client's declarations (public/clients/pubsub.d.ts) as a TypeScript user meets them.
import { connect } from '../../public/clients/pubsub.js';
import type {
  ChannelMessage,
  ConnectionState,
  Position,
  PubsubClient,
  Recovery,
} from '../../public/clients/pubsub.js';

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

export function recovery(client: PubsubClient): Position | undefined {
  client.on('recovered', ({ channel, recovered }: Recovery) => {
    if (!recovered) console.warn(`reload ${channel}`);
  });
  client.on('recovered', ({ recovered }) => {
    // @ts-expect-error: `recovered` is a boolean
    const said: string = recovered;
    return said;
  });
  client.on('message', ({ offset }) => {
    const at: number | undefined = offset;
    return at;
  });
  const at = client.position('chat.lobby');
  if (at) {
    const { epoch, offset }: { epoch: string; offset: number } = at;
    client.subscribe('chat.lobby', { epoch, offset });
  }
  // @ts-expect-error: a position has an epoch
  client.subscribe('chat.lobby', { offset: 3 });
  return at;
}
