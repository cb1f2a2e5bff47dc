// Server-Sent Events wire encoding. Every message is encoded once, into bytes
// that are then written unchanged to every interested client. Field lines carry
// no space after the colon (but before a payload line that begins with one); a
// payload with line breaks becomes several data lines.

export interface SseFields {
  readonly event?: string;
  readonly id?: string | number;
  readonly data: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

export function sseMessage(fields: SseFields): Buffer {
  let out = '';
  // A line break in a field name would end the field and inject another: drop it.
  if (fields.event !== undefined) out += `event:${oneLine(String(fields.event))}\n`;
  if (fields.id !== undefined) out += `id:${oneLine(String(fields.id))}\n`;
  const data = fields.data;
  out += LINE_BREAK.test(data) ? data.split(LINE_BREAK).map(dataLine).join('') : dataLine(data);
  return Buffer.from(`${out}\n`, 'utf8');
}

/** A data line; EventSource drops one space after the colon, so a line that begins with one gets another. */
function dataLine(line: string): string {
  return line.charCodeAt(0) === 32 ? `data: ${line}\n` : `data:${line}\n`;
}

function oneLine(value: string): string {
  return LINE_BREAK.test(value) ? value.replace(/[\r\n]+/g, '') : value;
}

/** A comment line (ignored by EventSource): used for the first byte and keepalives. */
export function sseComment(text = ''): Buffer {
  return Buffer.from(`:${text}\n\n`, 'utf8');
}

/** Tells EventSource how long to wait before reconnecting. */
export function sseRetry(ms: number): Buffer {
  return Buffer.from(`retry:${Math.round(ms)}\n\n`, 'utf8');
}

/** `{"1F602":2,"2665":1}` in the rollup's own (sorted) order. */
export function rollupJson(rollup: ReadonlyMap<string, number>): string {
  let out = '{';
  for (const [id, count] of rollup)
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(id)}:${count}`;
  return `${out}}`;
}
