// The operations settings of SPEC §4: defaults, accepted spellings, and errors
// that name the variable and what it accepts.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import type { Env } from '../../src/core/config.js';
import { protocolConfig } from '../../src/protocols/protocol.js';
import { emojitrack } from '../../src/protocols/emojitrack/index.js';

/** The core configuration and emojitrack's, read from one environment as the server does. */
const loadAll = (env: Env) => ({ ...loadConfig(env), ...protocolConfig(emojitrack, env) });

describe('operations configuration', () => {
  it('has the documented defaults', () => {
    const c = loadAll({});
    expect(c).toMatchObject({
      statsdHost: undefined,
      statsdPort: 8125,
      statsdPrefix: 'rx-streamer.',
      metricsIntervalMs: 10_000,
      statusHash: false,
      statusReportMs: 5_000,
      sseForceRefresh: false,
      sseRetryMs: 100,
      sseDetailRetryMs: 500,
      sseMaxAgeMs: 300_000,
      sseDetailMaxAgeMs: 300_000,
      enableRawStream: true,
      enableKioskInteractionStream: false,
      trustProxy: false,
      shutdownTimeoutMs: 10_000,
      shutdownRetryMs: 1_000,
    });
  });

  it('accepts true/false/1/0/yes/no for the switches', () => {
    for (const [text, value] of [
      ['true', true],
      ['YES', true],
      ['1', true],
      ['false', false],
      ['no', false],
      ['0', false],
    ] as const) {
      const c = loadAll({
        SSE_FORCE_REFRESH: text,
        ENABLE_KIOSK_INTERACTION_STREAM: text,
        STATUS_HASH: text,
      });
      expect([c.sseForceRefresh, c.enableKioskInteractionStream, c.statusHash]).toEqual([
        value,
        value,
        value,
      ]);
    }
  });

  it('ends the statsd prefix with a dot, and allows none', () => {
    expect(loadAll({ STATSD_PREFIX: 'emojitrack.streamer' }).statsdPrefix).toBe(
      'emojitrack.streamer.',
    );
    expect(loadAll({ STATSD_PREFIX: 'a.b.' }).statsdPrefix).toBe('a.b.');
    expect(loadAll({ STATSD_PREFIX: '' }).statsdPrefix).toBe('rx-streamer.');
  });

  it('reads TRUST_PROXY as express does: a switch, a hop count or addresses', () => {
    expect(loadAll({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadAll({ TRUST_PROXY: 'no' }).trustProxy).toBe(false);
    expect(loadAll({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadAll({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe(
      'loopback, 10.0.0.0/8',
    );
  });

  it('names the variable and the accepted values on bad input', () => {
    expect(() => loadAll({ SSE_FORCE_REFRESH: 'maybe' })).toThrow(
      'SSE_FORCE_REFRESH="maybe" is not valid: expected true, false, 1, 0, yes or no',
    );
    expect(() => loadAll({ STATSD_PORT: '70000' })).toThrow(
      'STATSD_PORT="70000" is not valid: expected a whole number from 1 to 65535',
    );
    expect(() => loadAll({ STATUS_REPORT_MS: 'soon' })).toThrow(/^STATUS_REPORT_MS="soon"/);
    expect(() => loadAll({ STATSD_PREFIX: 'a b' })).toThrow(/^STATSD_PREFIX="a b"/);
  });
});
