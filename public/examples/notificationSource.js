// A notification stream's client: an EventSource on `/?user=<id>` whose status
// events (`<message><status>…</status></message>`) drive its state. `failure`
// and `disconnected` are final, so the source is closed before the browser can
// reconnect; after `error` the browser reconnects by itself (the server sends
// the delay). Noops are reported apart from messages.
//
// Each event's id is the stream's position on every channel. The browser sends
// the last one back (Last-Event-ID) when it reconnects by itself, and the
// server resumes from it: what was missed comes right after `ok`, or an
// `unrecovered` event right after `ok` names the channels it cannot give back.
// When the browser gives up and a new EventSource is made, the position goes in
// `?lastEventId=` instead, so that one resumes too.

const STATUS = /^<message><status>(ok|failure|error|disconnected)<\/status><\/message>$/;
const MAX_BACKOFF_MS = 15_000;
/**
 * After `ok` on a reconnect, how long to wait for an `unrecovered` event before
 * calling it resumed. The server sends it right after `ok`, before anything
 * else, so this only has to outlast the network splitting the two.
 */
export const RESUME_SETTLE_MS = 400;

/**
 * @typedef {'connecting' | 'ok' | 'failure' | 'error' | 'reconnecting' | 'disconnected'} StreamState
 * @typedef {{ reason: string, channels: string[] }} Unrecovered
 * @param {string} url
 * @param {{
 *   onState: (state: StreamState) => void,
 *   onMessage: (data: string, id: string) => void,
 *   onNoop: () => void,
 *   onResumed?: (resumed: { caughtUp: number }) => void,
 *   onUnrecovered?: (unrecovered: Unrecovered) => void,
 * }} handlers
 *   `onResumed`: a reconnect got `ok` and no `unrecovered`; `caughtUp` counts
 *   the messages that came within RESUME_SETTLE_MS of `ok` (what it missed, and
 *   any live ones right behind). `onUnrecovered`: what it missed on these
 *   channels is gone; the stream goes on live, and the app should reload its state.
 */
export function openNotificationSource(
  url,
  { onState, onMessage, onNoop, onResumed, onUnrecovered },
) {
  let source;
  let state;
  let stopped = false;
  let failures = 0;
  let timer;
  /** The id of the last event received: where a new EventSource resumes from. */
  let position = '';
  /** After `ok` on a reconnect, until it is settled: the messages since. */
  let resuming;

  const setState = (next) => {
    if (next === state) return;
    state = next;
    onState(next);
  };
  /** Ends the wait after `ok`; `resumed` says whether to report it as resumed. */
  const settle = (resumed) => {
    if (!resuming) return;
    clearTimeout(resuming.timer);
    const { caughtUp } = resuming;
    resuming = undefined;
    if (resumed) onResumed?.({ caughtUp });
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    settle(false);
    source.close();
  };

  const withPosition = () => {
    if (!position) return url;
    const resumeUrl = new URL(url, location.href);
    resumeUrl.searchParams.set('lastEventId', position);
    return resumeUrl.href;
  };

  const connect = () => {
    source = new EventSource(withPosition());
    source.onmessage = (e) => {
      const cameBack = position !== '';
      if (e.lastEventId) position = e.lastEventId;
      if (e.data === 'noop') return onNoop();
      const status = STATUS.exec(e.data)?.[1];
      if (!status) {
        if (resuming) resuming.caughtUp++;
        return onMessage(e.data, e.lastEventId);
      }
      if (status === 'ok') {
        failures = 0;
        if (cameBack) {
          resuming = { caughtUp: 0, timer: setTimeout(() => settle(true), RESUME_SETTLE_MS) };
        }
      } else if (status !== 'error') stop();
      setState(status);
    };
    source.addEventListener('unrecovered', (e) => {
      if (e.lastEventId) position = e.lastEventId;
      settle(false);
      onUnrecovered?.(parseUnrecovered(e.data));
    });
    source.onerror = () => {
      if (stopped) return;
      // Cut off before it settled: the next `ok` tells.
      settle(false);
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

/** The event's `{"reason","channels"}`, or as much of it as makes sense. */
function parseUnrecovered(data) {
  let parsed;
  try {
    parsed = JSON.parse(data);
  } catch {
    parsed = undefined;
  }
  const channels = Array.isArray(parsed?.channels)
    ? parsed.channels.filter((c) => typeof c === 'string')
    : [];
  const reason = typeof parsed?.reason === 'string' ? parsed.reason : '';
  return { reason, channels };
}
