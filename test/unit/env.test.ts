// The environment-schema builder: what each field accepts and refuses (and says it
// expected), fallbacks, trimming, blanks as unset, the Standard Schema it is, and
// parseEnv's one-line errors for ours, for zod's and for an asynchronous schema.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  EnvField,
  bool,
  boolText,
  envSchema,
  int,
  list,
  oneOf,
  parseEnv,
  positive,
  text,
  url,
  urlPath,
} from '../../src/core/env.js';
import type { Env, StandardSchemaV1 } from '../../src/core/env.js';
import { StreamerError } from '../../src/core/errors.js';
import { defineProtocol, protocolConfig } from '../../src/protocols/protocol.js';

/** The value `field` reads from `value` as the variable X. */
function read<T>(field: EnvField<T>, value?: string): T {
  return parseEnv(envSchema({ X: field }), { X: value }).X;
}

/** The message parseEnv throws for `env`, which must be a StreamerError. */
function failure(schema: StandardSchemaV1<unknown, unknown>, env: Env): string {
  try {
    parseEnv(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(StreamerError);
    expect((error as StreamerError).code).toBe('RXS_ERR_CONFIG');
    expect((error as StreamerError).status).toBe(500);
    return (error as Error).message;
  }
  throw new Error(`parseEnv accepted ${JSON.stringify(env)}`);
}

/** What the variable X was expected to be, given `value`. */
const refusal = (field: EnvField<unknown>, value: string) =>
  failure(envSchema({ X: field }), { X: value }).replace(/^X=".*" is not valid: expected /s, '');

describe('fields', () => {
  it('bool: true, false, 1, 0, yes and no in any case; the fallback when unset', () => {
    const forms: [string, boolean][] = [
      ['true', true],
      ['FALSE', false],
      ['1', true],
      ['0', false],
      [' Yes ', true],
      ['no', false],
    ];
    for (const [value, expected] of forms) expect(read(bool(!expected), value)).toBe(expected);
    expect(read(bool(true))).toBe(true);
    expect(read(bool(false))).toBe(false);
    for (const value of ['on', 'y', '2', 'truee', 'yess']) {
      expect(refusal(bool(false), value)).toBe('true, false, 1, 0, yes or no');
    }
  });

  it('boolText: the same spellings, undefined when unset', () => {
    expect(read(boolText, 'no')).toBe(false);
    expect(read(boolText, 'YES')).toBe(true);
    expect(read(boolText)).toBeUndefined();
    expect(refusal(boolText, 'maybe')).toBe('true, false, 1, 0, yes or no');
  });

  it('int: a whole number within its bounds, bounds included', () => {
    const port = int(8001, 1, 65535);
    expect(read(port, '1')).toBe(1);
    expect(read(port, '65535')).toBe(65535);
    expect(read(port, ' 080 ')).toBe(80);
    expect(read(port)).toBe(8001);
    for (const value of ['0', '65536', '-1', '+1', '1.0', '1e3', '0x10', 'abc', '１２']) {
      expect(refusal(port, value)).toBe('a whole number from 1 to 65535');
    }
    // Past 2^53 too: the bounds, not the float's precision, are what users need to hear.
    expect(refusal(port, '99999999999999999999')).toBe('a whole number from 1 to 65535');
  });

  it('positive: a number above 0 up to its bound, fractions too', () => {
    const ms = positive(16.5, 60_000);
    expect(read(ms, '33.5')).toBe(33.5);
    expect(read(ms, '60000')).toBe(60_000);
    expect(read(ms)).toBe(16.5);
    for (const value of ['0', '0.0', '-5', '.5', '5.', '1e3', '60000.1', 'fast']) {
      expect(refusal(ms, value)).toBe('a positive number of milliseconds up to 60000');
    }
  });

  it('url: a URL with one of its protocols, trimmed; undefined when unset', () => {
    const redis = url(['redis:', 'rediss:']);
    expect(read(redis, ' rediss://h:6380/1 ')).toBe('rediss://h:6380/1');
    expect(read(redis)).toBeUndefined();
    for (const value of ['http://h', 'localhost:6379', 'not a url']) {
      expect(refusal(redis, value)).toBe('a URL starting with redis:// or rediss://');
    }
  });

  it('urlPath: a path of segments, its fallback when unset', () => {
    const path = urlPath('/echo');
    expect(read(path, '/a/b-c.d_e~f')).toBe('/a/b-c.d_e~f');
    expect(read(path, ' /x ')).toBe('/x');
    expect(read(path)).toBe('/echo');
    for (const value of ['echo', '/', '/a/', '/a//b', '/a?b', '/é']) {
      expect(refusal(path, value)).toBe(
        'a path like /echo (letters, digits, . _ ~ - and inner slashes)',
      );
    }
  });

  it('text: trimmed, or as it is with trim: false; undefined when unset', () => {
    expect(read(text(), '  a b  ')).toBe('a b');
    expect(read(text({ trim: false }), '  a b  ')).toBe('  a b  ');
    expect(read(text())).toBeUndefined();
  });

  it('oneOf: one of its values, trimmed but spelled exactly; it lists them when refused', () => {
    const level = oneOf(['error', 'warn', 'info']);
    expect(read(level, 'warn')).toBe('warn');
    expect(read(level, ' info ')).toBe('info');
    expect(read(level)).toBeUndefined();
    expect(refusal(level, 'INFO')).toBe('error, warn or info');
    expect(refusal(oneOf(['on', 'off']), 'x')).toBe('on or off');
    expect(refusal(oneOf(['only']), 'x')).toBe('only');
  });

  it('list: comma-separated items, each trimmed and checked, as a frozen array', () => {
    const names = list(/^[a-z]+$/, 'a comma-separated list of names');
    const value = read(names, ' a ,b,  c ');
    expect(value).toEqual(['a', 'b', 'c']);
    expect(Object.isFrozen(value)).toBe(true);
    expect(read(names, 'a')).toEqual(['a']);
    expect(read(names)).toBeUndefined();
    for (const bad of ['a,', ',a', 'a,,b', 'a b', 'A']) {
      expect(refusal(names, bad)).toBe('a comma-separated list of names');
    }
  });

  it('check: a pattern or a predicate, in order, each with its own message', () => {
    const key = text()
      .check((v) => v.length >= 4, 'at least 4 characters')
      .check(/^\S+$/, 'no spaces');
    expect(read(key, 'abcd')).toBe('abcd');
    expect(refusal(key, 'a b')).toBe('at least 4 characters');
    expect(refusal(key, 'ab cd')).toBe('no spaces');
    expect(read(key)).toBeUndefined();
  });

  it('map: reads present values only; what it throws says what was expected', () => {
    let calls = 0;
    const hex = text().map((v) => {
      calls++;
      if (!/^[0-9a-f]+$/i.test(v)) throw new Error('hexadecimal digits');
      return parseInt(v, 16);
    });
    expect(read(hex, 'ff')).toBe(255);
    expect(read(hex)).toBeUndefined();
    expect(calls).toBe(1);
    expect(refusal(hex, 'zz')).toBe('hexadecimal digits');
  });

  it('or: the fallback for an unset variable only', () => {
    const mode = oneOf(['a', 'b']).or('b');
    expect(read(mode)).toBe('b');
    expect(read(mode, 'a')).toBe('a');
    expect(refusal(mode, 'c')).toBe('a or b');
    expect(
      read(
        text()
          .map(() => 0)
          .or(7),
        'x',
      ),
    ).toBe(0);
  });

  it('reads an empty or blank variable as unset, for every field', () => {
    for (const blank of ['', ' ', '\t\n']) {
      expect(read(int(5, 0, 9), blank)).toBe(5);
      expect(read(bool(true), blank)).toBe(true);
      expect(read(text({ trim: false }), blank)).toBeUndefined();
      expect(read(list(/^x$/, 'x'), blank)).toBeUndefined();
      expect(read(urlPath('/p'), blank)).toBe('/p');
    }
  });
});

describe('envSchema', () => {
  const schema = envSchema({ PORT: int(8001, 0, 65535), MODE: oneOf(['a', 'b']).or('a') });

  it('is a Standard Schema v1 of rx-streamer', () => {
    expect(schema['~standard']).toMatchObject({ version: 1, vendor: 'rx-streamer' });
    expect(schema['~standard'].validate({ PORT: '80' })).toEqual({
      value: { PORT: 80, MODE: 'a' },
    });
  });

  it('reads only its own variables, into a frozen record', () => {
    const value = parseEnv(schema, { PORT: '1', OTHER: 'x' });
    expect(value).toEqual({ PORT: 1, MODE: 'a' });
    expect(Object.isFrozen(value)).toBe(true);
  });

  it('reads an empty or blank variable as unset when validated without parseEnv too', () => {
    expect(schema['~standard'].validate({ PORT: '', MODE: ' \t' })).toEqual({
      value: { PORT: 8001, MODE: 'a' },
    });
  });

  it('reports every bad variable, in the order of its fields, each with its path', () => {
    expect(schema['~standard'].validate({ MODE: 'c', PORT: 'x' })).toEqual({
      issues: [
        { message: 'a whole number from 0 to 65535', path: ['PORT'] },
        { message: 'a or b', path: ['MODE'] },
      ],
    });
  });

  it('refuses what is not a record of text', () => {
    expect(schema['~standard'].validate(null)).toEqual({
      issues: [{ message: 'a record of environment variables' }],
    });
    expect(schema['~standard'].validate({ PORT: 80 })).toEqual({
      issues: [{ message: 'text', path: ['PORT'] }],
    });
  });

  it('maps the values with build, which runs only when every variable is good', () => {
    let built = 0;
    const mapped = envSchema({ PORT: int(8001, 0, 65535) }, (e) => {
      built++;
      return Object.freeze({ port: e.PORT });
    });
    expect(parseEnv(mapped, { PORT: '9' })).toEqual({ port: 9 });
    expect(() => parseEnv(mapped, { PORT: 'x' })).toThrow(StreamerError);
    expect(built).toBe(1);
  });

  it('infers the types of its output', () => {
    expectTypeOf(parseEnv(schema, {})).toEqualTypeOf<{ PORT: number; MODE: 'a' | 'b' }>();
    expectTypeOf<StandardSchemaV1.InferOutput<typeof schema>>().toEqualTypeOf<{
      PORT: number;
      MODE: 'a' | 'b';
    }>();
    const mapped = envSchema({ A: text(), B: list(/x/, 'x').or([]) }, (e) => ({ a: e.A, b: e.B }));
    expectTypeOf(parseEnv(mapped, {})).toEqualTypeOf<{
      a: string | undefined;
      b: readonly string[];
    }>();
  });
});

describe('parseEnv', () => {
  const schema = envSchema({ PORT: int(8001, 0, 65535), VERBOSE: bool(false) });

  it('names the variable, its value and what was expected', () => {
    expect(failure(schema, { PORT: ' abc ' })).toBe(
      'PORT=" abc " is not valid: expected a whole number from 0 to 65535',
    );
  });

  it('names the first bad variable when several are bad', () => {
    expect(failure(schema, { VERBOSE: 'maybe', PORT: 'abc' })).toBe(
      'PORT="abc" is not valid: expected a whole number from 0 to 65535',
    );
  });

  it('hides the values of secrets, and the password of a URL', () => {
    const secrets = envSchema({
      TOKEN_SECRET: text().check((v) => v.length >= 16, 'at least 16 characters'),
      ADMIN_TOKEN: int(0, 0, 1),
      DB_PASSWORD: int(0, 0, 1),
      PUBLISH_API_KEY: int(0, 0, 1),
      REDIS_URL: url(['redis:']),
    });
    expect(failure(secrets, { TOKEN_SECRET: 'hunter2' })).toBe(
      'TOKEN_SECRET=(hidden) is not valid: expected at least 16 characters',
    );
    for (const name of ['ADMIN_TOKEN', 'DB_PASSWORD', 'PUBLISH_API_KEY']) {
      expect(failure(secrets, { [name]: 'hunter2' })).toBe(
        `${name}=(hidden) is not valid: expected a whole number from 0 to 1`,
      );
    }
    expect(failure(secrets, { REDIS_URL: 'http://me:hunter2@h:6379' })).toBe(
      'REDIS_URL="http://me:***@h:6379" is not valid: expected a URL starting with redis://',
    );
  });

  it('takes a zod schema, with its values and its messages', () => {
    const zod = z.object({
      PORT: z.coerce.number().int().max(65535, { error: 'a port' }).default(8001),
      NAME: z.string().trim().min(3),
    });
    expect(parseEnv(zod, { NAME: ' ann ' })).toEqual({ PORT: 8001, NAME: 'ann' });
    expect(parseEnv(zod, { NAME: 'ann', PORT: '80' })).toEqual({ PORT: 80, NAME: 'ann' });
    expect(failure(zod, { NAME: 'ann', PORT: '70000' })).toBe(
      'PORT="70000" is not valid: expected a port',
    );
    // An empty or blank value is unset for zod too: its default, or its own message.
    expect(parseEnv(zod, { NAME: 'ann', PORT: ' ' })).toEqual({ PORT: 8001, NAME: 'ann' });
    expect(failure(zod, { NAME: '' })).toMatch(/^NAME="" is not valid: expected .+/);
    expectTypeOf(parseEnv(zod, { NAME: 'ann' })).toEqualTypeOf<{ PORT: number; NAME: string }>();
  });

  it('reads a path given as segments, as the Standard Schema allows', () => {
    const segments: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'something else', path: [{ key: 'MODE' }] }] }),
      },
    };
    expect(failure(segments, { MODE: 'x' })).toBe('MODE="x" is not valid: expected something else');
  });

  it('refuses a schema that validates asynchronously, saying so', async () => {
    const later = z.object({
      NAME: z.string().refine(async () => {
        await Promise.resolve();
        return false;
      }),
    });
    expect(failure(later, { NAME: 'x' })).toBe(
      'the zod schema of the environment validated asynchronously: expected one that validates synchronously (no async refinements or transforms)',
    );
    const rejecting: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => Promise.reject(new Error('no')),
      },
    };
    expect(failure(rejecting, {})).toMatch(/^the test schema of the environment validated async/);
    // Its rejection is not left unhandled.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('defineProtocol', () => {
  const start = () => ({});

  it('takes a record of fields as the config', () => {
    const echo = defineProtocol({ name: 'echo', config: { ECHO_PATH: urlPath('/echo') }, start });
    expect(protocolConfig(echo, {})).toEqual({ ECHO_PATH: '/echo' });
    expect(protocolConfig(echo, { ECHO_PATH: '/e' })).toEqual({ ECHO_PATH: '/e' });
    expect(() => protocolConfig(echo, { ECHO_PATH: 'e' })).toThrow(
      'ECHO_PATH="e" is not valid: expected a path like /echo',
    );
    expectTypeOf(protocolConfig(echo, {})).toEqualTypeOf<{ ECHO_PATH: string }>();
  });

  it('keeps a schema as it is, ours or zod', () => {
    const ours = envSchema({ N: int(1, 0, 9) }, (e) => e.N);
    expect(defineProtocol({ name: 'ours', config: ours, start }).config).toBe(ours);
    const zod = z.object({ N: z.string() });
    const theirs = defineProtocol({ name: 'theirs', config: zod, start });
    expect(theirs.config).toBe(zod);
    expect(protocolConfig(theirs, { N: 'x' })).toEqual({ N: 'x' });
  });
});
