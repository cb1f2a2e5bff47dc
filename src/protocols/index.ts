// The protocol modules that ship with rx-streamer, by name, each imported only
// when `PROTOCOLS` names it: a server that serves one protocol loads none of the
// others' code. builtInProtocols.ts has them all, loaded at once.
import type { Config } from '../core/config.js';
import type { BuiltInOptions } from './builtInProtocols.js';
import type { ProtocolModule } from './protocol.js';
import { configureProtocols, protocolNames } from './startProtocols.js';
import type { SelectedProtocol } from './startProtocols.js';

export type { BuiltInOptions } from './builtInProtocols.js';

type Loader = (options: BuiltInOptions) => Promise<ProtocolModule>;

// In the order their routes are mounted when PROTOCOLS is unset.
const loaders = new Map<string, Loader>([
  [
    'emojitrack',
    async (o) => (await import('./emojitrack/index.js')).emojitrackProtocol(o.emojitrack),
  ],
  [
    'notifications',
    async (o) => (await import('./notifications/index.js')).notificationsProtocol(o.notifications),
  ],
  ['pubsub', async () => (await import('./pubsub/index.js')).pubsubProtocol()],
  ['datastream', async () => (await import('./datastream/index.js')).datastreamProtocol()],
]);

/** The names of the built-in protocol modules. */
export const BUILT_IN_PROTOCOLS: readonly string[] = Object.freeze([...loaders.keys()]);

/**
 * The built-in modules `PROTOCOLS` names (every one when it is unset), imported
 * and each with its own variables parsed; a StreamerError for a bad name or
 * variable, before anything is started.
 */
export async function loadProtocols(
  config: Config,
  options: BuiltInOptions = {},
): Promise<SelectedProtocol[]> {
  const names = protocolNames(config, BUILT_IN_PROTOCOLS);
  const modules = await Promise.all(names.map((name) => (loaders.get(name) as Loader)(options)));
  return configureProtocols(config, modules);
}
