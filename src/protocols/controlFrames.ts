// The control frames the WebSocket protocols answer clients with (SPEC §3):
// `{"controlMessage":true,"content":…}`, with `"error":true` for errors.

/** Any value as JSON text (`undefined`, which JSON cannot say, as `null`). */
export const toJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

/**
 * A control reply: `{"controlMessage":true,"content":"Subscribed to C"}`, with
 * the fields of `extra` after those (a subscription's position, say).
 */
export function controlMessage(content: string, extra?: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    extra ? { controlMessage: true, content, ...extra } : { controlMessage: true, content },
  );
}

/** A control error: the same shape, with `"error":true`. */
export function controlError(content: string): string {
  return JSON.stringify({ controlMessage: true, error: true, content });
}

/** Most characters of a client's own value a control error quotes back. */
const MAX_QUOTED = 64;

/**
 * A client's value quoted in a control error, cut short: what the server holds
 * for a client that does not read must not grow with what the client sends.
 */
export function quoted(value: unknown): string {
  const json = toJson(value);
  return json.length > MAX_QUOTED ? `${json.slice(0, MAX_QUOTED)}…` : json;
}
