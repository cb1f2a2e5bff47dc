// What the project's commands share: their options parsed with node's parseArgs,
// `--help` answered with the usage, and a bad argument ending the command with a
// one-line error and the usage (exit 2).
import { parseArgs } from 'node:util';

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
