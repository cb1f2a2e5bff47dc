// The building blocks of environment-variable schemas (zod), shared by the core
// configuration and every protocol module's, and the one parser that turns a
// bad value into a one-line error naming the variable and what it accepts.
import { z } from 'zod';
import { StreamerError } from './errors.js';

export type Env = Record<string, string | undefined>;

export const boolText = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'true, false, 1, 0, yes or no' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const bool = (fallback: boolean) => boolText.optional().transform((v) => v ?? fallback);

export const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: `a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `a whole number from ${min} to ${max}` })
        .max(max, { error: `a whole number from ${min} to ${max}` }),
    )
    .optional()
    .transform((v) => v ?? fallback);

export const positive = (fallback: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, { error: `a positive number of milliseconds up to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .positive({ error: `a positive number of milliseconds up to ${max}` })
        .max(max, { error: `a positive number of milliseconds up to ${max}` }),
    )
    .optional()
    .transform((v) => v ?? fallback);

export const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { error: `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    )
    .optional();

/** A URL path a protocol is served at, like `/pubsub`: segments of letters, digits and . _ ~ -. */
export const urlPath = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(/^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/, {
      error: `a path like ${fallback} (letters, digits, . _ ~ - and inner slashes)`,
    })
    .optional()
    .transform((v) => v ?? fallback);

/** Variables with a value: an empty string means "unset", as a shell `FOO= cmd` intends. */
export function presentVariables(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== '',
    ),
  );
}

/** Parses an environment with a schema; throws a StreamerError naming the first bad variable. */
export function parseEnv<T>(schema: z.ZodType<T>, env: Env): T {
  const present = presentVariables(env);
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? 'environment');
  throw new StreamerError(
    'RXS_ERR_CONFIG',
    `${name}=${SECRET_NAME.test(name) ? '(hidden)' : JSON.stringify(hideSecrets(present[name] ?? ''))} is not valid: expected ${issue?.message ?? 'a valid value'}`,
    500,
  );
}

/** Variables whose values are never shown, not even when they are wrong. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|API_KEY/;

/** A URL's password never reaches a log line: `redis://u:pw@h` is shown as `redis://u:***@h`. */
function hideSecrets(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
