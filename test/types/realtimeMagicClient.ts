// Type-checked with the project (npm run typecheck), never run: the declarations
// of /clients/realtime-magic.js (a global, as the original's) and of the pub/sub
// client over SockJS, as a TypeScript user meets them.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- a classic script's types are globals, not a module
/// <reference path="../../public/clients/realtime-magic.d.ts" />
import SockJS from 'sockjs-client';
import { connect } from '../../public/clients/pubsub.js';
import type { PubsubClient } from '../../public/clients/pubsub.js';

export function readmePage(endpoint: string): realtimeMagic.Client {
  const client = new realtimeMagic.Client(`${endpoint}/pubsub/`);
  client.onopen = () => client.subscribe('the_channel');
  client.onmessage = (message: unknown, channel?: string) => console.log(channel, message);
  client.onclose = () => console.log('close');
  client.oncontrol = ({ content, error }) => error && console.warn(content.toUpperCase());
  client.publish('the_channel', "I'm new to this channel");
  client.execute('subscribe', 'bare');
  // @ts-expect-error: a channel is a string
  client.subscribe(1);
  return client;
}

export function debugSession(endpoint: string): realtimeMagic.Client {
  return new realtimeMagic.Client(endpoint, 'send_cookies_insecurely', 'sessionid=abc');
}

export function overSockJs(url: string): PubsubClient {
  return connect(url, { createSocket: (u) => new SockJS(u), maxQueued: 10 });
}
