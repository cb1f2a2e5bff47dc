// The protocol modules that ship with rx-streamer; `PROTOCOLS` picks among them.
import type { ProtocolModule } from '../core/protocol.js';
import { emojitrackProtocol } from './emojitrack/index.js';
import type { EmojitrackOptions } from './emojitrack/index.js';

export interface BuiltInOptions {
  readonly emojitrack?: EmojitrackOptions;
}

export function builtInProtocols(options: BuiltInOptions = {}): ProtocolModule[] {
  return [emojitrackProtocol(options.emojitrack)];
}
