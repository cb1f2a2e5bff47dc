// Which SockJS session a request belongs to, read from the shape of its target
// alone (`…/<server>/<session>/<transport>`, whatever the prefix), and which of
// N workers a session lives on. The cluster primary routes a new connection
// with these, and a worker checks a request with the very same functions.

/**
 * SockJS's session URLs: the transports whose requests carry a session (the
 * list deploy/nginx.conf keys on, and the `[^/.]+` segments sockjs matches).
 */
const SESSION_PATH =
  /\/[^/.]+\/([^/.]+)\/(?:xhr|xhr_send|xhr_streaming|eventsource|htmlfile|jsonp|jsonp_send|websocket)\/?$/;

/**
 * The session id in a request target (origin-form `/p/1/abc/xhr?t=1`, or
 * absolute-form), or undefined when its path has no session's shape.
 */
export function sessionIdOf(target: string): string | undefined {
  const query = target.search(/[?#]/);
  const path = query === -1 ? target : target.slice(0, query);
  return SESSION_PATH.exec(path)?.[1];
}

/**
 * The slot (0…slots-1) a session lives on: a stable hash (32-bit FNV-1a) of its
 * id, so every request of a session goes to one slot, whichever worker holds it.
 */
export function slotOf(sessionId: string, slots: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) {
    hash ^= sessionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % slots;
}
