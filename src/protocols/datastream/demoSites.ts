// Demo traffic for the embedded default: two observatory sites reporting their
// weather and their status through the queue, as a site's services would, so
// /examples/sites.html shows live data on `npm start`.
import { interval, mergeMap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';

/** The demo's sites. */
export const DEMO_SITES = ['mrc', 'sro'] as const;

export interface DemoMessage {
  readonly site: string;
  readonly topic: 'weather' | 'status';
  readonly data: Record<string, unknown>;
}

const round = (v: number, digits = 1) => Number(v.toFixed(digits));

/**
 * Every `periodMs`, each site's weather; every fifth period, its status too.
 * The values wander from one reading to the next, as a station's do.
 */
export function demoSiteMessages(
  periodMs: number,
  random: () => number,
  scheduler: SchedulerLike,
): Observable<DemoMessage> {
  const weather = new Map<string, { temp: number; humidity: number; wind: number }>(
    DEMO_SITES.map((s, i) => [s, { temp: 8 + 6 * i, humidity: 40 + 10 * i, wind: 3 }]),
  );
  const wander = (v: number, step: number, min: number, max: number) =>
    Math.min(max, Math.max(min, v + (random() - 0.5) * step));
  return interval(periodMs, scheduler).pipe(
    mergeMap((n) =>
      DEMO_SITES.flatMap((site): DemoMessage[] => {
        const w = weather.get(site) as { temp: number; humidity: number; wind: number };
        w.temp = wander(w.temp, 0.6, -10, 35);
        w.humidity = wander(w.humidity, 3, 5, 100);
        w.wind = wander(w.wind, 1.5, 0, 25);
        const safe = w.humidity < 85 && w.wind < 12;
        const out: DemoMessage[] = [
          {
            site,
            topic: 'weather',
            data: {
              temperature_c: round(w.temp),
              humidity_pct: round(w.humidity),
              wind_mps: round(w.wind),
              sky_temp_c: round(w.temp - 25 - 10 * random()),
              open_ok: safe,
            },
          },
        ];
        if (n % 5 === 0)
          out.push({
            site,
            topic: 'status',
            data: {
              enclosure: safe ? 'open' : 'closed',
              mount: safe ? 'tracking' : 'parked',
              camera: safe ? `exposing ${1 + (n % 3)} of 3` : 'idle',
            },
          });
        return out;
      }),
    ),
  );
}
