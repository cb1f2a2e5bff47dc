// A notification stream's client: an EventSource on `/?user=<id>` whose status
// events (`<message><status>…</status></message>`) drive its state. `failure`
// and `disconnected` are final, so the source is closed before the browser can
// reconnect; after `error` the browser reconnects by itself (the server sends
// the delay). Noops are reported apart from messages.

const STATUS = /^<message><status>(ok|failure|error|disconnected)<\/status><\/message>$/;
const MAX_BACKOFF_MS = 15_000;

/**
 * @typedef {'connecting' | 'ok' | 'failure' | 'error' | 'reconnecting' | 'disconnected'} StreamState
 * @param {string} url
 * @param {{
 *   onState: (state: StreamState) => void,
 *   onMessage: (data: string, id: string) => void,
 *   onNoop: () => void,
 * }} handlers
 */
export function openNotificationSource(url, { onState, onMessage, onNoop }) {
  let source;
  let state;
  let stopped = false;
  let failures = 0;
  let timer;

  const setState = (next) => {
    if (next === state) return;
    state = next;
    onState(next);
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    source.close();
  };

  const connect = () => {
    source = new EventSource(url);
    source.onmessage = (e) => {
      if (e.data === 'noop') return onNoop();
      const status = STATUS.exec(e.data)?.[1];
      if (!status) return onMessage(e.data, e.lastEventId);
      if (status === 'ok') failures = 0;
      else if (status !== 'error') stop();
      setState(status);
    };
    source.onerror = () => {
      if (stopped) return;
      // After `error` the state already says the browser is reconnecting.
      if (state !== 'error') setState('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return;
      // The browser gave up (a non-2xx answer, say from a proxy): try again, spaced out.
      const delay = Math.min(500 * 2 ** failures++, MAX_BACKOFF_MS);
      timer = setTimeout(connect, delay);
    };
  };

  setState('connecting');
  connect();
  return { close: stop };
}
