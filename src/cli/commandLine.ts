// What the project's commands share: their options parsed with node's parseArgs,
// `--help` answered with the usage, a bad argument ending the command with a
// one-line error and the usage (exit 2), and the server's own configuration and
// Redis for the commands that talk to it.
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import type { Config } from '../core/config.js';
import { StreamerError } from '../core/errors.js';
import type { RedisTarget } from '../sources/redisClient.js';

/** Ends the command with a message (and the usage, unless told not to). */
export type Fail = (message: string, usage?: boolean) => never;

type StringOptions = Record<string, { readonly type: 'string' }>;

export interface CommandLine<O extends StringOptions> {
  readonly values: { [K in keyof O]?: string };
  /** Ends the command: `<name>: <message>`, then the usage unless `usage` is false. */
  readonly fail: Fail;
}

export function commandLine<O extends StringOptions>(
  name: string,
  usage: string,
  options: O,
): CommandLine<O> {
  const fail: Fail = (message, withUsage = true) => {
    process.stderr.write(`${name}: ${message}\n${withUsage ? `${usage}\n` : ''}`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = parseArgs({
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    fail((err as Error).message);
  }
  if (parsed.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return { values: parsed as { [K in keyof O]?: string }, fail };
}

/**
 * The server's own configuration (its Redis, sharded channels, bounds), so a
 * bad variable ends the command with the server's one-line message.
 */
export function serverConfig(fail: Fail, withUsage: boolean): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof StreamerError)) throw err;
    return fail(err.message, withUsage);
  }
}

/** --redis, else the server's REDIS_CLUSTER_NODES or REDIS_URL (at most one is set), else a local Redis. */
export function redisTargetOf(given: string | undefined, config: Config): RedisTarget {
  return (
    given ??
    (config.redisCluster ? { cluster: config.redisCluster } : undefined) ??
    config.redisUrl ??
    'redis://127.0.0.1:6379'
  );
}
