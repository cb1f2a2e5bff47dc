// Authenticators, as the WebSocket protocols run them: every one whose pattern
// matches the channel (or site) must allow, else the default one; and they fail
// closed — a throw, a rejection or no answer in time denies.
import type { Logger } from '../core/logger.js';
import { globMatcher } from '../sources/globMatcher.js';

/** What an authenticator is asked: may this client do this to this channel? */
export interface AuthRequest<Client> {
  readonly client: Client;
  readonly action: 'subscribe' | 'publish';
  /** The channel, or on site streams the site. */
  readonly channel: string;
  /** A publish's message. */
  readonly message?: unknown;
}

/**
 * Allows (true) or denies (false) an action. A throw, a rejection or no answer
 * within the protocol's timeout denies too: authenticators fail closed.
 */
export type Authenticator<Client> = (request: AuthRequest<Client>) => boolean | Promise<boolean>;

/** An authenticator for the channels matching a Redis glob pattern (`chat.*`). */
export interface ChannelAuthenticator<Client> {
  readonly channels: string;
  readonly check: Authenticator<Client>;
}

export interface AuthorizeOptions<Client> {
  readonly authenticators?: readonly ChannelAuthenticator<Client>[];
  /** Asked for channels no authenticator matches; absent: allowed. */
  readonly defaultAuthenticator?: Authenticator<Client> | undefined;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** The check a protocol runs before a subscribe or publish. */
export function authorizer<Client>(
  options: AuthorizeOptions<Client>,
): (request: AuthRequest<Client>) => Promise<boolean> {
  const { timeoutMs, logger } = options;
  const patterned = (options.authenticators ?? []).map((a) => ({
    check: a.check,
    pattern: globMatcher(a.channels),
  }));

  const verdict = (check: Authenticator<Client>, request: AuthRequest<Client>) =>
    new Promise<boolean>((resolve) => {
      const denied = (why: string) => {
        logger.warn('an authenticator failed; denied', {
          channel: request.channel,
          action: request.action,
          why,
        });
        resolve(false);
      };
      const timer = setTimeout(() => denied(`no answer within ${timeoutMs} ms`), timeoutMs);
      Promise.resolve()
        .then(() => check(request))
        .then(
          (v) => resolve(v === true),
          (err: unknown) => denied(String(err)),
        )
        .finally(() => clearTimeout(timer));
    });

  return async (request) => {
    const matching = patterned.filter((a) => a.pattern.test(request.channel));
    const checks = matching.length
      ? matching.map((a) => a.check)
      : options.defaultAuthenticator
        ? [options.defaultAuthenticator]
        : [];
    if (checks.length === 0) return true;
    const verdicts = await Promise.all(checks.map((check) => verdict(check, request)));
    return verdicts.every((v) => v === true);
  };
}
