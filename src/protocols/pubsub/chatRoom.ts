// The chat example's hooks (/examples/chat.html), served on the embedded bus
// when the application gives none, and a model for writing your own: an
// authenticator and two push traps over the `chat.*` channels.
import { filter, map } from 'rxjs';
import type { ClientPublish, PubsubHooks } from './hooks.js';

/** A chat name: 1–24 letters, digits, spaces, `_ . -`. */
export const CHAT_NAME = /^[\p{L}\p{N}][\p{L}\p{N} _.-]{0,23}$/u;
const MAX_TEXT = 500;
const CHAT = /^chat\./;

const nameOf = (p: { client: { request: { query: URLSearchParams } } }) =>
  p.client.request.query.get('name') ?? '';

const textOf = (message: unknown): string | undefined => {
  const text = (message as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : undefined;
};

export function chatRoomHooks(): PubsubHooks {
  return {
    authenticators: [
      {
        // Only a client that connected with a chat name (`/pubsub?name=Ada`)
        // joins a room, and it publishes only a text of a sane length.
        channels: 'chat.*',
        check: (request) => {
          if (!CHAT_NAME.test(nameOf(request))) return false;
          if (request.action === 'subscribe') return true;
          const text = textOf(request.message);
          return text !== undefined && text.length <= MAX_TEXT;
        },
      },
    ],
    pushTraps: [
      // The server, not the client, says who wrote it and when: no impersonation.
      map((p: ClientPublish) =>
        CHAT.test(p.channel)
          ? {
              ...p,
              message: { name: nameOf(p), text: (textOf(p.message) ?? '').trim(), at: Date.now() },
            }
          : p,
      ),
      // Nothing said, nothing sent.
      filter((p: ClientPublish) => !CHAT.test(p.channel) || textOf(p.message) !== ''),
    ],
  };
}
