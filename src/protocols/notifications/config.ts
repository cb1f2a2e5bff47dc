// The notifications protocol's environment variables: where its streams are
// served, the noop clock, the token secret and how long Redis may take.
import { envSchema, int, text } from '../../core/env.js';
import type { StandardSchemaV1 } from '../../core/env.js';

/** A path of its own, `/` or `/notify`: no query, no trailing slash but the root's. */
const notifyPath = text()
  .check(
    /^\/(?:[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*)?$/,
    'a path like / or /notify (letters, digits, . _ ~ - and inner slashes)',
  )
  .or('/');

/** Not trimmed: tokens are signed with the secret exactly as it is set. */
const secret = text({ trim: false })
  .check((v) => v.length >= 16, 'a secret of at least 16 characters')
  .check((v) => v.length <= 1024, 'a secret of at most 1024 characters');

export const notificationsSchema = envSchema(
  {
    NOTIFY_PATH: notifyPath,
    NOOP_MS: int(15_000, 100, 3_600_000),
    TOKEN_SECRET: secret,
    NOTIFY_REDIS_TIMEOUT_MS: int(5_000, 100, 60_000),
  },
  (e) =>
    Object.freeze({
      /** Where the per-user streams are served: `GET <path>?user=<id>`. */
      path: e.NOTIFY_PATH,
      /** How often every stream gets `data:noop`, from one shared clock. */
      noopMs: e.NOOP_MS,
      /** When set, every stream needs a `token` minted with it. */
      tokenSecret: e.TOKEN_SECRET,
      /** How long reading a channel set and making its subscriptions live may take. */
      redisTimeoutMs: e.NOTIFY_REDIS_TIMEOUT_MS,
    }),
);

export type NotificationsConfig = StandardSchemaV1.InferOutput<typeof notificationsSchema>;
