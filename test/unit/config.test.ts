// loadConfig and the protocols' schemas: the defaults the SPEC lists, every accepted
// boolean spelling, and an error for a bad value that names the variable, the value
// and what is accepted.
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import type { Env } from '../../src/core/config.js';
import { parseEnv } from '../../src/core/env.js';
import type { StandardSchemaV1 } from '../../src/core/env.js';
import { StreamerError } from '../../src/core/errors.js';
import { protocolConfig } from '../../src/protocols/protocol.js';
import { emojitrack } from '../../src/protocols/emojitrack/index.js';
import { datastreamSchema } from '../../src/protocols/datastream/config.js';
import { notificationsSchema } from '../../src/protocols/notifications/config.js';
import { pubsubSchema } from '../../src/protocols/pubsub/config.js';

/** The core configuration and emojitrack's, read from one environment as the server does. */
const loadAll = (env: Env) => ({ ...loadConfig(env), ...protocolConfig(emojitrack, env) });

/** The StreamerError loadConfig throws for `env`. */
function configError(env: Env): StreamerError {
  try {
    loadAll(env);
  } catch (error) {
    expect(error).toBeInstanceOf(StreamerError);
    return error as StreamerError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('applies the defaults for an empty environment', () => {
    expect(loadAll({})).toMatchObject({
      port: 8001,
      host: undefined,
      redisUrl: undefined,
      nodeEnv: 'development',
      nodeName: `${hostname()}-${process.pid}`,
      logLevel: 'info',
      verbose: false,
      keepaliveMs: 15_000,
      epsIntervalMs: 1000 / 60,
      corsOrigin: '*',
      enableRawStream: true,
      enableKioskInteractionStream: false,
      sseForceRefresh: false,
      sseRetryMs: 100,
      sseDetailRetryMs: 500,
      sseMaxAgeMs: 300_000,
      statusReportMs: 5_000,
      statusHash: false,
    });
  });

  it('reads only the environment it is given', () => {
    const before = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadAll({}).port).toBe(8001);
      expect(loadAll({ PORT: '4321' }).port).toBe(4321);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });

  it('treats empty and blank values as unset', () => {
    expect(loadAll({ PORT: '', VERBOSE: '  ', REDIS_URL: '' })).toMatchObject({
      port: 8001,
      verbose: false,
      redisUrl: undefined,
    });
  });

  it('reads the values it is given, trimmed', () => {
    expect(
      loadAll({
        PORT: ' 9000 ',
        REDIS_URL: 'redis://127.0.0.1:6390/2',
        NODE_ENV: 'production',
        NODE_NAME: 'streamer-1',
        LOG_LEVEL: 'debug',
        KEEPALIVE_MS: '20000',
        EPS_INTERVAL_MS: '33.5',
        CORS_ORIGIN: 'https://emojitracker.com',
      }),
    ).toMatchObject({
      port: 9000,
      redisUrl: 'redis://127.0.0.1:6390/2',
      nodeEnv: 'production',
      nodeName: 'streamer-1',
      logLevel: 'debug',
      keepaliveMs: 20_000,
      epsIntervalMs: 33.5,
      corsOrigin: 'https://emojitracker.com',
      // The status hash is on by default in production.
      statusHash: true,
    });
    expect(loadAll({ REDIS_URL: 'rediss://redis.example:6380' }).redisUrl).toBe(
      'rediss://redis.example:6380',
    );
    expect(loadAll({ NODE_ENV: ' staging ', LOG_LEVEL: 'warn\t' })).toMatchObject({
      nodeEnv: 'staging',
      logLevel: 'warn',
    });
  });

  describe('booleans', () => {
    const forms: [string, boolean][] = [
      ['true', true],
      ['false', false],
      ['1', true],
      ['0', false],
      ['yes', true],
      ['no', false],
      ['TRUE', true],
      ['No', false],
      [' yes ', true],
    ];
    const flags: [string, keyof ReturnType<typeof loadAll>][] = [
      ['VERBOSE', 'verbose'],
      ['ENABLE_RAW_STREAM', 'enableRawStream'],
      ['SSE_FORCE_REFRESH', 'sseForceRefresh'],
      ['ENABLE_KIOSK_INTERACTION_STREAM', 'enableKioskInteractionStream'],
    ];
    for (const [name, key] of flags) {
      it(`reads ${name} as true/false/1/0/yes/no, in any case`, () => {
        for (const [text, value] of forms) expect(loadAll({ [name]: text })[key]).toBe(value);
      });
    }

    it('rejects any other spelling, naming what it accepts', () => {
      for (const text of ['maybe', 'on', 'off', 'y', '2', 'truee']) {
        const error = configError({ VERBOSE: text });
        expect(error.message).toBe(
          `VERBOSE="${text}" is not valid: expected true, false, 1, 0, yes or no`,
        );
      }
    });
  });

  describe('errors', () => {
    it('is a StreamerError with a stable code and status', () => {
      const error = configError({ PORT: 'abc' });
      expect(error.name).toBe('StreamerError');
      expect(error.code).toBe('RXS_ERR_CONFIG');
      expect(error.status).toBe(500);
    });

    it('names the variable, the value and the accepted range of a number', () => {
      expect(configError({ PORT: 'abc' }).message).toBe(
        'PORT="abc" is not valid: expected a whole number from 0 to 65535',
      );
      expect(configError({ PORT: '70000' }).message).toBe(
        'PORT="70000" is not valid: expected a whole number from 0 to 65535',
      );
      expect(configError({ PORT: '80.5' }).message).toBe(
        'PORT="80.5" is not valid: expected a whole number from 0 to 65535',
      );
      expect(configError({ KEEPALIVE_MS: '-1' }).message).toBe(
        'KEEPALIVE_MS="-1" is not valid: expected a whole number from 100 to 3600000',
      );
      // Below the minimum reads the same as any other bad value.
      expect(configError({ KEEPALIVE_MS: '50' }).message).toBe(
        'KEEPALIVE_MS="50" is not valid: expected a whole number from 100 to 3600000',
      );
      // And so does a number too big for a float to hold exactly.
      expect(configError({ PORT: '9007199254740993' }).message).toBe(
        'PORT="9007199254740993" is not valid: expected a whole number from 0 to 65535',
      );
    });

    it('names the accepted range of the history and recovery bounds', () => {
      expect(configError({ HISTORY_SIZE: '0' }).message).toBe(
        'HISTORY_SIZE="0" is not valid: expected a whole number from 1 to 100000',
      );
      expect(configError({ HISTORY_TTL_S: 'soon' }).message).toBe(
        'HISTORY_TTL_S="soon" is not valid: expected a whole number from 1 to 2592000',
      );
      expect(configError({ RECOVERY_MAX: '-1' }).message).toBe(
        'RECOVERY_MAX="-1" is not valid: expected a whole number from 0 to 100000',
      );
      expect(loadAll({})).toMatchObject({ historySize: 100, historyTtlS: 300, recoveryMax: 300 });
      expect(loadAll({ RECOVERY_MAX: '0' }).recoveryMax).toBe(0);
    });

    it('names the accepted values of a fractional interval', () => {
      for (const text of ['0', '-5', 'fast', '1e3']) {
        expect(configError({ EPS_INTERVAL_MS: text }).message).toBe(
          `EPS_INTERVAL_MS="${text}" is not valid: expected a positive number of milliseconds up to 60000`,
        );
      }
    });

    it('names the accepted schemes of a Redis URL', () => {
      for (const text of ['http://x', 'localhost:6379', 'not a url']) {
        expect(configError({ REDIS_URL: text }).message).toBe(
          `REDIS_URL="${text}" is not valid: expected a URL starting with redis:// or rediss://`,
        );
      }
    });

    it('names the accepted values of an enumeration', () => {
      expect(configError({ NODE_ENV: 'prod' }).message).toBe(
        'NODE_ENV="prod" is not valid: expected development, test, staging or production',
      );
      expect(configError({ LOG_LEVEL: 'trace' }).message).toBe(
        'LOG_LEVEL="trace" is not valid: expected error, warn, info, debug or silent',
      );
    });

    it('names the bad entry of ALLOWED_ORIGINS', () => {
      expect(
        configError({ ALLOWED_ORIGINS: 'https://a.example, https://b.example/x' }).message,
      ).toBe(
        'ALLOWED_ORIGINS="https://a.example, https://b.example/x" is not valid: expected https://b.example/x is not an origin (http or https, host and port, no path)',
      );
      expect(
        loadAll({ ALLOWED_ORIGINS: ' https://a.example , http://b.example:8080 ' }),
      ).toMatchObject({ allowedOrigins: ['https://a.example', 'http://b.example:8080'] });
    });

    it('reports one bad variable when several are bad', () => {
      const message = configError({ VERBOSE: 'maybe', PORT: 'abc' }).message;
      expect(message).toMatch(/^(PORT="abc"|VERBOSE="maybe") is not valid: expected /);
    });
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(protocolConfig(emojitrack, {}))).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(8001);
  });
});

describe('Redis Cluster', () => {
  it('reads REDIS_CLUSTER_NODES as seed nodes and REDIS_SHARDED_CHANNELS as globs', () => {
    const config = loadAll({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b.internal:7001,[::1]:7002',
      REDIS_SHARDED_CHANNELS: 'pubsub:*, room.?',
    });
    expect(config.redisCluster).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.shardedChannels).toEqual(['pubsub:*', 'room.?']);
    expect(config.redisUrl).toBeUndefined();
  });

  it('runs on neither and shards nothing by default', () => {
    expect(loadAll({})).toMatchObject({ redisCluster: undefined, shardedChannels: [] });
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, naming both', () => {
    const error = configError({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
    });
    expect(error.code).toBe('RXS_ERR_CONFIG');
    expect(error.message).toBe(
      'REDIS_URL and REDIS_CLUSTER_NODES are both set: expected exactly one of them (a single Redis or a Redis Cluster)',
    );
  });

  it.each(['127.0.0.1', '127.0.0.1:7000,', 'redis://127.0.0.1:7000', 'a:b'])(
    'names the accepted form of REDIS_CLUSTER_NODES=%j',
    (text) => {
      expect(configError({ REDIS_CLUSTER_NODES: text }).message).toBe(
        `REDIS_CLUSTER_NODES="${text}" is not valid: expected a comma-separated list of host:port seed nodes`,
      );
    },
  );
});

describe("the protocols' own variables", () => {
  const message = (schema: StandardSchemaV1<unknown, unknown>, env: Env) => {
    try {
      parseEnv(schema, env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(env)}`);
  };

  it('reads them with their defaults and lists, frozen', () => {
    expect(parseEnv(pubsubSchema, {})).toMatchObject({ redisPrefix: 'pubsub:', pgChannels: [] });
    const pubsub = parseEnv(pubsubSchema, { PG_CHANNELS: 'a, b ,c', PUBSUB_PATH: '/ps' });
    expect(pubsub).toMatchObject({ pgChannels: ['a', 'b', 'c'], path: '/ps' });
    expect(Object.isFrozen(pubsub) && Object.isFrozen(pubsub.pgChannels)).toBe(true);
    expect(parseEnv(pubsubSchema, { PG_CHANNELS: ' * ' }).pgChannels).toBe('*');
    expect(parseEnv(notificationsSchema, {})).toMatchObject({ path: '/', noopMs: 15_000 });
    expect(parseEnv(datastreamSchema, {})).toMatchObject({ key: 'datastream:incoming' });
  });

  it('keeps the blanks of TOKEN_SECRET, which tokens are signed with', () => {
    const secret = ' 0123456789abcdef ';
    expect(parseEnv(notificationsSchema, { TOKEN_SECRET: secret }).tokenSecret).toBe(secret);
  });

  it('names what each accepts, hiding secrets', () => {
    expect(message(pubsubSchema, { PG_CHANNELS: 'a,' })).toBe(
      'PG_CHANNELS="a," is not valid: expected * or channel names separated by commas (1-63 letters, digits and _ . : @ / - each, as Postgres takes them)',
    );
    expect(message(pubsubSchema, { PUBSUB_REDIS_PREFIX: 'a b' })).toBe(
      'PUBSUB_REDIS_PREFIX="a b" is not valid: expected up to 64 letters, digits and _ . : / -',
    );
    expect(message(datastreamSchema, { DATASTREAM_API_KEY: 'a short key' })).toBe(
      'DATASTREAM_API_KEY=(hidden) is not valid: expected at least 16 characters',
    );
    expect(message(datastreamSchema, { DATASTREAM_API_KEY: 'a key with spaces' })).toBe(
      'DATASTREAM_API_KEY=(hidden) is not valid: expected printable ASCII with no spaces',
    );
    expect(message(notificationsSchema, { TOKEN_SECRET: 'x'.repeat(1025) })).toBe(
      'TOKEN_SECRET=(hidden) is not valid: expected a secret of at most 1024 characters',
    );
    expect(message(notificationsSchema, { NOTIFY_PATH: '/n/' })).toBe(
      'NOTIFY_PATH="/n/" is not valid: expected a path like / or /notify (letters, digits, . _ ~ - and inner slashes)',
    );
  });
});

describe('secrets in error messages', () => {
  it('hides the password of a bad REDIS_URL', () => {
    expect(() => loadAll({ REDIS_URL: 'http://user:s3cret@host:6379' })).toThrow(
      'REDIS_URL="http://user:***@host:6379" is not valid',
    );
  });
});
