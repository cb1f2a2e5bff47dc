// What a POST to the site-stream ingest can make the server store, against a
// real server process on the embedded default: the size bound applies to the
// entry as stored (`data` written out again can be longer than sent), a body
// nested deeper than can be written back is a 400 and no error, and the
// in-process queue holds a bounded number of bytes.
import { expect, it } from 'vitest';
import { serverForFile } from '../support/process.js';

const server = serverForFile({
  PROTOCOLS: 'datastream',
});

const post = async (body: string) => {
  const res = await fetch(`${server().url}/datastream/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
};

it('refuses with 413 a body under the bound whose entry, as stored, is over it', async () => {
  const numbers = new Array(13_000).fill('9e20').join(',');
  const body = `{"site":"s","topic":"t","data":[${numbers}]}`;
  expect(body.length).toBeLessThan(65_536);
  const { status, body: error } = await post(body);
  expect(status).toBe(413);
  expect(error.code).toBe('RXS_ERR_TOO_LARGE');
  expect(error.message).toMatch(/^a message has at most 65536 bytes as stored; this one has \d+$/);
});

it('answers a body nested 30,000 deep with a 400 that says so, and logs no error', async () => {
  const body = `{"site":"s","topic":"t","data":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
  const { status, body: error } = await post(body);
  expect(status).toBe(400);
  expect(error.message).toBe('data is nested too deeply');
  expect(
    server()
      .logs()
      .filter((l) => l.level === 'error'),
  ).toEqual([]);
});

it('still takes a message that fits', async () => {
  expect((await post('{"site":"s","topic":"t","data":{"ok":true}}')).status).toBe(202);
});
