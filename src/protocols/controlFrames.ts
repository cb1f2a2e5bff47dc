// The control frames the WebSocket protocols answer clients with (SPEC §3):
// `{"controlMessage":true,"content":…}`, with `"error":true` for errors.

/** Any value as JSON text (`undefined`, which JSON cannot say, as `null`). */
export const toJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** A control reply: `{"controlMessage":true,"content":"Subscribed to C"}`. */
export function controlMessage(content: string): string {
  return JSON.stringify({ controlMessage: true, content });
}

/** A control error: the same shape, with `"error":true`. */
export function controlError(content: string): string {
  return JSON.stringify({ controlMessage: true, error: true, content });
}
