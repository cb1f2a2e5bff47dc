// The notification streams' requests: `GET <NOTIFY_PATH>?user=<id>[&token=<t>]`,
// with the Last-Event-ID EventSource sends when it comes back (or
// `?lastEventId=`) to resume from. A request without `user` is not a stream
// (the root keeps serving the live page); a bad user id or token still opens
// a stream, as Sisyphus clients expect, one that says `failure` (and why) and ends.
import type { Connection } from '../../fanout/Connection.js';
import type { StreamResolver } from '../../transports/sse/StreamRoutes.js';
import type { NotificationsConfig } from './config.js';
import { StreamPosition } from './streamPosition.js';
import type { Position } from '../../core/position.js';
import { verifyToken } from './token.js';
import type { TokenCheck } from './token.js';
import type { FailureReason } from './events.js';

type TokenRefusal = Extract<TokenCheck, { ok: false }>['reason'];

/** Every notification stream's family: the shared noop clock. */
export const NOTIFY_FAMILY = 'notify';
/** The family of the channels' topics, one topic per channel. */
export const CHANNELS_FAMILY = 'notify_channels';

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Why a stream gets `failure`; a bad token's `detail` is for the log only. */
export interface Refusal {
  readonly reason: FailureReason;
  readonly detail?: 'malformed' | 'forged';
}

const TOKEN_REFUSALS: Readonly<Record<TokenRefusal, Refusal>> = {
  missing: { reason: 'missing-token' },
  malformed: { reason: 'bad-token', detail: 'malformed' },
  forged: { reason: 'bad-token', detail: 'forged' },
  expired: { reason: 'expired-token' },
};

/**
 * Where a stream resumes from: the positions of the id it came back with, or
 * `unknown` for an id this server did not make; undefined when it brought none.
 */
export type Resume = ReadonlyMap<string, Position> | 'unknown' | undefined;

export interface NotificationStreamHandlers {
  /** A user's stream is open, its events' ids from `position`: start the session. */
  readonly opened: (
    connection: Connection,
    user: string,
    position: StreamPosition,
    resume: Resume,
  ) => void;
  /** A stream for a bad user id or token is open: say `failure` and why, and end it. */
  readonly refused: (connection: Connection, user: string, why: Refusal) => void;
}

/** Resolves the requests at NOTIFY_PATH; add it there with `{ exact: true }`. */
export function notificationStreams(
  config: NotificationsConfig,
  handlers: NotificationStreamHandlers,
): StreamResolver {
  return (request) => {
    const { query } = request;
    const user = query.get('user');
    if (user === null) return undefined;
    const check = checkUser(config, user, query.get('token'));
    const refusal = 'refusal' in check ? check.refusal : undefined;
    const lastId = request.header('last-event-id') ?? query.get('lastEventId') ?? undefined;
    const resume: Resume =
      lastId === undefined || lastId === ''
        ? undefined
        : (StreamPosition.parse(lastId) ?? 'unknown');
    // Only an id this server made is written back (base64url: nothing to break a line with).
    const position = new StreamPosition(typeof resume === 'object' ? lastId : undefined);
    return {
      family: NOTIFY_FAMILY,
      // The user is listed by the stream itself (to the operator only), never the token.
      namespace: '/users',
      preamble: null,
      eventIds: position.idFor,
      // A token is good until it expires, and so is the stream it opened: it ends
      // then, and the client comes back with a fresh token (or gets `failure`).
      ...('expiresAt' in check && check.expiresAt !== undefined
        ? { maxAgeMs: Math.max(0, check.expiresAt - Date.now()) }
        : {}),
      opened: (connection) =>
        refusal
          ? handlers.refused(connection, user, refusal)
          : handlers.opened(connection, user, position, resume),
    };
  };
}

function checkUser(
  config: NotificationsConfig,
  user: string,
  token: string | null,
): { readonly refusal: Refusal } | { readonly expiresAt: number | undefined } {
  if (!USER_ID.test(user)) return { refusal: { reason: 'bad-id' } };
  if (config.tokenSecret === undefined) return { expiresAt: undefined };
  const check = verifyToken(token ?? undefined, user, config.tokenSecret);
  return check.ok ? { expiresAt: check.expiresAt } : { refusal: TOKEN_REFUSALS[check.reason] };
}
