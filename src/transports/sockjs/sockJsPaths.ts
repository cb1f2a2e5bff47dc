// The paths SockJS serves under a prefix, matched in one place: its WebSocket
// transports (taken by the WebSocket transport's upgrades, refused as plain
// requests) and the iframe's files.

/** A string as a regular expression that matches it literally. */
export function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * SockJS's WebSocket paths under a prefix: `/websocket` (raw) and
 * `/<server>/<session>/websocket` (framed, groups 1 and 2), on a pathname.
 */
export function sockJsWebSocketPaths(prefix: string): RegExp {
  return new RegExp(`^${literal(prefix)}/(?:([^/.]+)/([^/.]+)/)?websocket/?$`);
}
