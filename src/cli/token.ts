#!/usr/bin/env node
// Mints a per-user notifications token with the server's TOKEN_SECRET, for trying a
// stream by hand (`GET /?user=42&token=...`): the token alone on stdout, a note on stderr.
//   npm run token -- --user 42 [--ttl 3600]
import { parseEnv } from '../core/env.js';
import { StreamerError } from '../core/errors.js';
import { notificationsSchema } from '../protocols/notifications/config.js';
import { mintToken } from '../protocols/notifications/token.js';
import { commandLine } from './commandLine.js';
import type { Fail } from './commandLine.js';

const USAGE = `usage: npm run token -- --user ID [--ttl SECONDS]
  --user  the user id the token opens a stream for (1-64 of A-Z a-z 0-9 _ -)
  --ttl   seconds until the token expires (default 3600)
  reads TOKEN_SECRET from the environment, as the server does`;

const cli = commandLine('token', USAGE, {
  user: { type: 'string' },
  ttl: { type: 'string' },
});
const args = cli.values;
// Annotated, so that TypeScript knows no code runs after a call.
const fail: Fail = cli.fail;

const user = args.user;
if (user === undefined) fail('--user is required');
const ttlText = args.ttl ?? '3600';
const ttlSeconds = /^\d+$/.test(ttlText) ? Number(ttlText) : NaN;
if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
  fail(`--ttl must be a positive whole number of seconds, got "${ttlText}"`);
}

let secret: string | undefined;
try {
  // The server's own schema, so a bad value is refused here with the server's message.
  secret = parseEnv(notificationsSchema, process.env).tokenSecret;
} catch (err) {
  if (!(err instanceof StreamerError)) throw err;
  fail(err.message, false);
}
if (secret === undefined) {
  fail("TOKEN_SECRET is not set: tokens are made with the server's secret", false);
}

let token: string;
try {
  token = mintToken({ user, ttlSeconds, secret });
} catch (err) {
  // mintToken refuses only bad input, and the secret is already known good: a bad --user.
  fail(`--user: ${(err as Error).message}`);
}
const expires = new Date(Number(token.slice(0, token.indexOf('.'))) * 1000);
process.stderr.write(`token for user ${user}, expires ${expires.toISOString()}\n`);
process.stdout.write(`${token}\n`);
