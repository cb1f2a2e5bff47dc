// Environment-variable schemas: fields that each read one variable, the schema
// that reads a record of them (and maps the values to a configuration), and the
// one parser that turns a bad value into a one-line error naming the variable and
// what it accepts. A schema is a Standard Schema, so parseEnv takes zod's too.
import { StreamerError } from './errors.js';
import type { StandardSchemaV1 } from './standardSchema.js';

export type { StandardSchemaV1 } from './standardSchema.js';

export type Env = Record<string, string | undefined>;

/** A variable's value once it is set. */
type Present<T> = Exclude<T, undefined>;

/**
 * How one variable is read: its text (undefined when it is unset or blank) to a
 * value. `read` refuses a bad value by throwing an Error whose message says what
 * was expected (`a whole number from 1 to 10`); that is the message users see.
 */
export class EnvField<T> {
  constructor(readonly read: (text: string | undefined) => T) {}

  /** A set value passed through `fn`, which may throw to refuse it; unset stays undefined. */
  map<U>(fn: (value: Present<T>) => U): EnvField<U | Extract<T, undefined>> {
    return new EnvField((text) => {
      const value = this.read(text);
      return value === undefined ? (value as Extract<T, undefined>) : fn(value as Present<T>);
    });
  }

  /** Refuses a set value that fails `test` (a pattern, for text), saying what was expected. */
  check(
    test: (Present<T> extends string ? RegExp : never) | ((value: Present<T>) => boolean),
    expected: string,
  ): EnvField<T> {
    const passes = typeof test === 'function' ? test : (value: string) => test.test(value);
    return new EnvField((text) => {
      const value = this.read(text);
      if (value !== undefined && !passes(value as Present<T> & string)) throw new Error(expected);
      return value;
    });
  }

  /** `fallback` when the variable is unset. */
  or(fallback: Present<T>): EnvField<Present<T>> {
    return new EnvField((text) => {
      const value = this.read(text);
      return value === undefined ? fallback : (value as Present<T>);
    });
  }
}

/** A variable's text, trimmed unless `trim` is false (a secret's blanks are its own). */
export function text({ trim = true }: { trim?: boolean } = {}): EnvField<string | undefined> {
  return new EnvField((value) => (trim ? value?.trim() : value));
}

/** One of `values`, spelled exactly; what is expected lists them (`a, b or c`). */
export function oneOf<const V extends string>(values: readonly V[]): EnvField<V | undefined> {
  const listed =
    values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : values.join('');
  const known = (value: string): value is V => (values as readonly string[]).includes(value);
  return text().map((value) => {
    if (!known(value)) throw new Error(listed);
    return value;
  });
}

/** Comma-separated items, each trimmed and matching `item`, as a frozen array. */
export function list(item: RegExp, expected: string): EnvField<readonly string[] | undefined> {
  return text().map((value) => {
    const items = value.split(',').map((entry) => entry.trim());
    if (!items.every((entry) => item.test(entry))) throw new Error(expected);
    return Object.freeze(items);
  });
}

/** An optional boolean: true, false, 1, 0, yes or no, in any case. */
export const boolText = text()
  .check(/^(true|false|1|0|yes|no)$/i, 'true, false, 1, 0, yes or no')
  .map((value) => /^(true|1|yes)$/i.test(value));

export const bool = (fallback: boolean) => boolText.or(fallback);

export function int(fallback: number, min: number, max: number): EnvField<number> {
  const expected = `a whole number from ${min} to ${max}`;
  return text()
    .check(/^\d+$/, expected)
    .map(Number)
    .check((n) => n >= min && n <= max, expected)
    .or(fallback);
}

export function positive(fallback: number, max: number): EnvField<number> {
  const expected = `a positive number of milliseconds up to ${max}`;
  return text()
    .check(/^\d+(\.\d+)?$/, expected)
    .map(Number)
    .check((n) => n > 0 && n <= max, expected)
    .or(fallback);
}

export function url(protocols: string[]): EnvField<string | undefined> {
  return text().check(
    (value) => URL.canParse(value) && protocols.includes(new URL(value).protocol),
    `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );
}

/** A URL path a protocol is served at, like `/pubsub`: segments of letters, digits and . _ ~ -. */
export function urlPath(fallback: string): EnvField<string> {
  return text()
    .check(
      /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/,
      `a path like ${fallback} (letters, digits, . _ ~ - and inner slashes)`,
    )
    .or(fallback);
}

export type EnvFields = Readonly<Record<string, EnvField<unknown>>>;

/** The values a record of fields reads, by variable name. */
export type EnvValues<F extends EnvFields> = {
  -readonly [K in keyof F]: F[K] extends EnvField<infer T> ? T : never;
};

/** A schema of environment variables whose output is `T`. */
export type EnvSchema<T> = StandardSchemaV1<Env, T>;

/**
 * The schema of a record of fields, each reading the variable of its name; its
 * output is `build` of their values (a frozen record of them without it).
 * Every bad variable is an issue, in the order of the fields.
 */
export function envSchema<F extends EnvFields, T = EnvValues<F>>(
  fields: F,
  build?: (values: EnvValues<F>) => T,
): EnvSchema<T> {
  function validate(input: unknown): StandardSchemaV1.Result<T> {
    if (typeof input !== 'object' || input === null) {
      return { issues: [{ message: 'a record of environment variables' }] };
    }
    const values: Record<string, unknown> = {};
    const issues: StandardSchemaV1.Issue[] = [];
    for (const [name, field] of Object.entries(fields)) {
      const value: unknown = Object.hasOwn(input, name)
        ? (input as Record<string, unknown>)[name]
        : undefined;
      try {
        if (value !== undefined && typeof value !== 'string') throw new Error('text');
        values[name] = field.read(value === undefined || value.trim() === '' ? undefined : value);
      } catch (err) {
        issues.push({ message: err instanceof Error ? err.message : String(err), path: [name] });
      }
    }
    if (issues.length > 0) return { issues };
    const record = Object.freeze(values) as EnvValues<F>;
    return { value: build ? build(record) : (record as T) };
  }
  return { '~standard': { version: 1, vendor: 'rx-streamer', validate } };
}

/** Variables with a value: an empty string means "unset", as a shell `FOO= cmd` intends. */
export function presentVariables(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== '',
    ),
  );
}

/**
 * Parses an environment with a Standard Schema (ours, zod's or another's) that
 * validates synchronously; throws a StreamerError naming the first bad variable.
 */
export function parseEnv<T>(schema: StandardSchemaV1<unknown, T>, env: Env): T {
  const present = presentVariables(env);
  const standard = schema['~standard'];
  const result = standard.validate(present);
  if (result instanceof Promise) {
    void result.catch(() => undefined); // never awaited: its rejection is not news
    throw new StreamerError(
      'RXS_ERR_CONFIG',
      `the ${standard.vendor} schema of the environment validated asynchronously: expected one that validates synchronously (no async refinements or transforms)`,
      500,
    );
  }
  if (result.issues === undefined) return result.value;
  const issue = result.issues[0];
  const name = variableName(issue?.path?.[0]);
  throw new StreamerError(
    'RXS_ERR_CONFIG',
    `${name}=${SECRET_NAME.test(name) ? '(hidden)' : JSON.stringify(hideSecrets(present[name] ?? ''))} is not valid: expected ${issue?.message ?? 'a valid value'}`,
    500,
  );
}

function variableName(segment: PropertyKey | StandardSchemaV1.PathSegment | undefined): string {
  const key = typeof segment === 'object' ? segment.key : segment;
  return key === undefined ? 'environment' : String(key);
}

/** Variables whose values are never shown, not even when they are wrong. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|API_KEY/;

/** A URL's password never reaches a log line: `redis://u:pw@h` is shown as `redis://u:***@h`. */
function hideSecrets(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
