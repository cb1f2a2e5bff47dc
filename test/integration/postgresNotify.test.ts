// PostgresNotify against a private Postgres: notifications delivered in order with
// their channel, one LISTEN per channel however many subscribers, live() meaning a
// NOTIFY sent after it arrives, names taken literally, and a restart survived.
import { Writable } from 'node:stream';
import pg from 'pg';
import { firstValueFrom, take, throwError, timeout, toArray } from 'rxjs';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import winston from 'winston';
import type { BusMessage } from '../../src/core/message.js';
import type { Readiness } from '../../src/core/readiness.js';
import { PostgresNotify, quoteIdentifier } from '../../src/sources/PostgresNotify.js';
import type { PostgresNotifyOptions } from '../../src/sources/PostgresNotify.js';
import { startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { freePort } from '../support/redis.js';
import { waitUntil } from '../support/sse.js';

let postgres: TestPostgres;
let pub: pg.Client;
const sources: PostgresNotify[] = [];

const notify = (channel: string, payload: string) =>
  pub.query('SELECT pg_notify($1, $2)', [channel, payload]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A source closed after the test, whatever happens in it. */
function source(url = postgres.url, options: PostgresNotifyOptions = {}): PostgresNotify {
  const s = new PostgresNotify(url, options);
  sources.push(s);
  return s;
}

/** Subscribes and resolves once the LISTEN is in effect. */
async function listen(
  s: PostgresNotify,
  channel: string,
): Promise<{ got: BusMessage[]; sub: Subscription }> {
  const got: BusMessage[] = [];
  const sub = s.channel(channel).subscribe((m) => got.push(m));
  await firstValueFrom(
    s
      .live(channel)
      .pipe(
        timeout({ first: 5_000, with: () => throwError(() => new Error(`${channel} not live`)) }),
      ),
  );
  return { got, sub };
}

/** A logger that keeps its lines, parsed. */
function capturingLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

beforeAll(async () => {
  postgres = await startPostgres();
  pub = await postgres.client();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await postgres?.stop();
});

describe('PostgresNotify', () => {
  it('delivers a NOTIFY with its channel, payload and receive time', async () => {
    const s = source();
    const got = firstValueFrom(s.channel('pg.one'));
    await firstValueFrom(s.live('pg.one'));
    const before = Date.now();
    await notify('pg.one', '{"x": [1, 2]}');
    const m = await got;
    expect([m.channel, m.payload]).toEqual(['pg.one', '{"x": [1, 2]}']);
    expect(m.receivedAt).toBeGreaterThanOrEqual(before - 5);
    expect(s.readiness()).toEqual({ ready: true });
  });

  it('delivers notifications in the order they were sent, an empty payload as ""', async () => {
    const s = source();
    const got = firstValueFrom(s.channel('pg.order').pipe(take(301), toArray()));
    await firstValueFrom(s.live('pg.order'));
    // A hundred transactions one after another, then two hundred in one transaction.
    for (let i = 0; i < 100; i++) await notify('pg.order', String(i));
    await pub.query(
      "SELECT pg_notify('pg.order', i::text) FROM generate_series(100, 299) AS i ORDER BY i",
    );
    await pub.query('NOTIFY "pg.order", \'\'');
    const payloads = (await got).map((m) => m.payload);
    expect(payloads).toEqual([...Array.from({ length: 300 }, (_, i) => String(i)), '']);
  });

  it('shares one LISTEN among subscribers and UNLISTENs when the last one leaves', async () => {
    const query = vi.spyOn(pg.Client.prototype, 'query');
    const statements = (re: RegExp) =>
      query.mock.calls
        .map((c) => c[0] as unknown)
        .filter((q) => typeof q === 'string' && re.test(q));
    const s = source();
    const a = await listen(s, 'pg.shared');
    const b = await listen(s, 'pg.shared');
    expect(statements(/^LISTEN/)).toEqual(['LISTEN "pg.shared"']);
    expect(s.listening()).toEqual(['pg.shared']);

    await notify('pg.shared', 'both');
    await waitUntil(() => a.got.length === 1 && b.got.length === 1, 5_000, 'both subscribers');

    a.sub.unsubscribe();
    expect(s.listening()).toEqual(['pg.shared']);
    await notify('pg.shared', 'b only');
    await waitUntil(() => b.got.length === 2, 5_000, 'the remaining subscriber');
    expect(statements(/UNLISTEN/)).toEqual([]);

    b.sub.unsubscribe();
    expect(s.listening()).toEqual([]);
    await waitUntil(() => statements(/UNLISTEN/).length === 1, 5_000, 'UNLISTEN sent');
    // The UNLISTEN's own result: once it resolved the session no longer listens.
    const unlisten = query.mock.results.find((_, i) =>
      String(query.mock.calls[i]?.[0]).startsWith('UNLISTEN'),
    );
    await unlisten?.value;
    expect(statements(/UNLISTEN/)).toEqual(['UNLISTEN "pg.shared"']);

    // A later subscriber of another channel sees nothing of the old one.
    const other = await listen(s, 'pg.other');
    await notify('pg.shared', 'nobody');
    await notify('pg.other', 'marker');
    await waitUntil(() => other.got.length === 1, 5_000, 'the marker');
    expect(a.got.map((m) => m.payload)).toEqual(['both']);
    expect(b.got.map((m) => m.payload)).toEqual(['both', 'b only']);
    expect(s.listening()).toEqual(['pg.other']);
  });

  it('live() means LISTEN is in effect: a NOTIFY sent right after it is delivered', async () => {
    const s = source();
    for (let i = 0; i < 50; i++) {
      // One channel in two rounds out of three, just left by the round before: subscribed
      // again at once (no UNLISTEN sent yet, so it is still listened) or a turn of the
      // event loop later (its UNLISTEN in flight: live() must wait for the LISTEN after
      // it). Every third round a channel never used.
      const channel = i % 3 === 2 ? `pg.live.${i}` : 'pg.live';
      const { got, sub } = await listen(s, channel);
      await notify(channel, `n${i}`);
      await waitUntil(() => got.length === 1, 2_000, `notification ${i} on ${channel}`);
      expect(got[0]?.payload).toBe(`n${i}`);
      sub.unsubscribe();
      if (i % 3 === 1) await new Promise((r) => setImmediate(r));
    }
    expect(s.listening()).toEqual([]);
  });

  it('takes channel names literally: quotes, spaces and case', async () => {
    expect(quoteIdentifier('Mixed Case"quote')).toBe('"Mixed Case""quote"');
    const s = source();
    const names = ['Mixed Case"quote', 'mixed case"quote', 'semi; UNLISTEN *; --', '"""', 'ünï'];
    const subs = await Promise.all(names.map((n) => listen(s, n)));
    for (const n of names) await notify(n, `to ${n}`);
    await waitUntil(() => subs.every((x) => x.got.length === 1), 5_000, 'every channel');
    await sleep(50);
    subs.forEach((x, i) => {
      expect(x.got.map((m) => [m.channel, m.payload])).toEqual([[names[i], `to ${names[i]}`]]);
    });
    expect(s.listening().sort()).toEqual([...names].sort());
  });

  it('refuses names Postgres would not LISTEN on as given', () => {
    const s = source();
    expect(() => s.channel('')).toThrow(RangeError);
    expect(() => s.channel('a\0b')).toThrow(RangeError);
    expect(() => s.channel('x'.repeat(64))).toThrow(/at most 63 bytes/);
    expect(() => s.channel('é'.repeat(32))).toThrow(/not 64/);
    expect(() => s.channel('x'.repeat(63))).not.toThrow();
  });

  it('reconnects after a restart, LISTENs again and delivers once ready', async () => {
    const { logger, lines } = capturingLogger();
    const s = source(postgres.url, { logger });
    const before = await listen(s, 'pg.restart');
    const changes: Readiness[] = [];
    // Whether the channel was live at the very moment readiness came: it must be.
    const liveAtReady: boolean[] = [];
    const watching = s.readinessChanges().subscribe((r) => {
      changes.push(r);
      if (!r.ready) return;
      let live = false;
      s.live('pg.restart')
        .subscribe(() => (live = true))
        .unsubscribe();
      liveAtReady.push(live);
    });
    try {
      await notify('pg.restart', 'before');
      await waitUntil(() => before.got.length === 1, 5_000, 'the first notification');

      const restarted = postgres.restart();
      await waitUntil(() => !s.readiness().ready, 10_000, 'the source to notice');
      expect(s.readiness()).toEqual({ ready: false, reason: 'postgres reconnecting' });
      // Subscribed while the connection is down: LISTENed once it is back.
      const late: BusMessage[] = [];
      s.channel('pg.late').subscribe((m) => late.push(m));
      await restarted;
      await waitUntil(() => s.readiness().ready, 15_000, 'the source to be ready again');
      expect(s.reconnects).toBe(1);

      // Ready means every channel in use is LISTENed again: no need to wait on live().
      pub = await postgres.client();
      await notify('pg.restart', 'after');
      await notify('pg.late', 'late');
      await waitUntil(
        () => before.got.length === 2 && late.length === 1,
        5_000,
        'notifications after the restart',
      );
      expect(before.got.map((m) => m.payload)).toEqual(['before', 'after']);
      expect(late.map((m) => m.payload)).toEqual(['late']);
      await firstValueFrom(s.live('pg.restart'));
      await firstValueFrom(s.live('pg.late'));
      expect(changes.map((r) => r.ready)).toEqual([true, false, true]);
      expect(liveAtReady).toEqual([true, true]);
      const logged = (message: string) => lines.filter((l) => l.message === message);
      expect(logged('postgres reconnecting')[0]).toMatchObject({
        level: 'warn',
        component: 'postgres-notify',
        delayMs: 100,
      });
      expect(logged('postgres reconnected')).toMatchObject([{ level: 'warn', channels: 2 }]);
      expect(s.listening().sort()).toEqual(['pg.late', 'pg.restart']);
    } finally {
      watching.unsubscribe();
    }
  });

  it('is not ready while Postgres is unreachable, and stops trying on close', async () => {
    const s = source(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
    const got: BusMessage[] = [];
    let completed = false;
    s.channel('pg.nowhere').subscribe({
      next: (m) => got.push(m),
      complete: () => (completed = true),
    });
    const live = firstValueFrom(s.live('pg.nowhere'), { defaultValue: 'never live' });
    await waitUntil(() => s.readiness().reason === 'postgres reconnecting', 5_000, 'a failed try');
    await s.close();
    expect(s.readiness()).toEqual({ ready: false, reason: 'postgres closed' });
    expect(completed).toBe(true);
    expect(await live).toBe('never live');
    expect(s.listening()).toEqual([]);
    expect(got).toEqual([]);
  });
});
