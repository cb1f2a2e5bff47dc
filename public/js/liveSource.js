// An EventSource that reports its state (connecting, live, reconnecting). The
// browser retries a dropped stream by itself; a stream it has given up on (a
// non-2xx answer, say from a proxy while the server restarts) is reopened here.

const MAX_BACKOFF_MS = 15_000;

/**
 * This page's cleanup token: its streams are opened with it, and only a request
 * carrying it can close them (POST /subscribe/cleanup/…), for networks that
 * hide a closed connection from the server.
 */
const CLEANUP_TOKEN = [...crypto.getRandomValues(new Uint8Array(16))]
  .map((b) => b.toString(16).padStart(2, '0'))
  .join('');

/**
 * @param {string} url
 * @param {{
 *   events: Record<string, (e: MessageEvent) => void>,
 *   onState?: (state: 'connecting' | 'live' | 'reconnecting') => void,
 *   onOpen?: () => void,
 *   cleanup?: string,
 * }} options `cleanup`: the cleanup endpoint told when the page closes the stream.
 */
export function openLiveSource(url, { events, onState = () => {}, onOpen = () => {}, cleanup }) {
  const streamUrl = cleanup
    ? `${url}${url.includes('?') ? '&' : '?'}cleanup=${CLEANUP_TOKEN}`
    : url;
  const cleanUp = () => {
    if (cleanup) navigator.sendBeacon(`${cleanup}?cleanup=${CLEANUP_TOKEN}`);
  };
  let source;
  let stopped = false;
  let failures = 0;
  let timer;

  const connect = () => {
    source = new EventSource(streamUrl);
    for (const [type, handler] of Object.entries(events)) source.addEventListener(type, handler);
    source.onopen = () => {
      failures = 0;
      onState('live');
      onOpen();
    };
    source.onerror = () => {
      if (stopped) return;
      onState('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return;
      const delay = Math.min(500 * 2 ** failures++, MAX_BACKOFF_MS);
      timer = setTimeout(connect, delay);
    };
  };

  onState('connecting');
  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      source.close();
      cleanUp();
    },
  };
}
