// Every protocol module that ships with rx-streamer, loaded together: the
// default of createStreamer() for library users and tests. The server loads
// only those `PROTOCOLS` names (see index.ts).
import type { ProtocolModule } from './protocol.js';
import { emojitrackProtocol } from './emojitrack/index.js';
import type { EmojitrackOptions } from './emojitrack/index.js';
import { notificationsProtocol } from './notifications/index.js';
import type { NotificationsOptions } from './notifications/index.js';
import { datastreamProtocol } from './datastream/index.js';
import { pubsubProtocol } from './pubsub/index.js';

export interface BuiltInOptions {
  readonly emojitrack?: EmojitrackOptions;
  readonly notifications?: NotificationsOptions;
}

export function builtInProtocols(options: BuiltInOptions = {}): ProtocolModule[] {
  return [
    emojitrackProtocol(options.emojitrack),
    notificationsProtocol(options.notifications),
    pubsubProtocol(),
    datastreamProtocol(),
  ];
}
