// A request's Cookie header as name/value pairs, for authenticators that read a
// session cookie from a WebSocket handshake.

/** The Cookie header's pairs; a pair that does not decode keeps its raw value. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // Kept as sent.
    }
    if (name && !(name in cookies)) cookies[name] = value;
  }
  return cookies;
}
