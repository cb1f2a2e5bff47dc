// Publishing with history the way apps do in tests: POST /api/publish with the
// bearer key (PUBLISH_API_KEY), expecting a 200 and its position.
import { expect } from 'vitest';
import type { Position } from '../../src/core/position.js';

/** Publishes `data` on a Redis channel (`pubsub:<c>` for pub/sub channel c); its position. */
export async function publishApi(
  baseUrl: string,
  key: string,
  channel: string,
  data: unknown,
): Promise<Position> {
  const res = await fetch(`${baseUrl}/api/publish`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify({ channel, data }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const { epoch, offset } = (await res.json()) as Position;
  return { epoch, offset };
}
