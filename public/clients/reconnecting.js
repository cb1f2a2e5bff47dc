// rx-streamer's reconnecting WebSocket for browsers, shared by the clients
// beside it (pubsub.js, datastream.js): one socket that comes back by itself.
// After a drop it reconnects with exponential backoff and full jitter (so a
// restarted server is not met by every client in the same millisecond). Frames
// sent while it is down wait in a bounded queue, oldest dropped first, and go
// out once it is open again, after what the client sends on every open (its
// subscriptions). Frames received are handed over parsed from JSON, or as they
// came when they are not JSON. The socket is a WebSocket unless `createSocket`
// makes another with its interface (a SockJS, say). Types: reconnecting.d.ts
// beside this file.

export const DEFAULTS = Object.freeze({ minDelayMs: 500, maxDelayMs: 30_000, maxQueued: 1_000 });

/** `/pubsub` or `ws://host/pubsub`: a path is taken on this page's host, ws or wss alike. */
export function socketUrl(url) {
  const u = new URL(url, location.href);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.href;
}

/** Listeners by event type, each called apart: one that throws is reported, not in the way. */
export function listeners(types) {
  const sets = Object.fromEntries(types.map((type) => [type, new Set()]));
  return {
    emit(type, value) {
      for (const fn of sets[type]) {
        try {
          fn(value);
        } catch (err) {
          setTimeout(() => {
            throw err;
          });
        }
      }
    },
    on(type, fn) {
      if (!sets[type]) throw new Error(`unknown event ${type}`);
      sets[type].add(fn);
      return () => sets[type].delete(fn);
    },
  };
}

/**
 * Opens a socket to `url` (a string, or a function asked again before every
 * attempt) and keeps it open until `close()`.
 */
export function reconnectingSocket(url, options = {}) {
  const setting = (name) => options[name] ?? DEFAULTS[name];
  const [minDelayMs, maxDelayMs, maxQueued] = ['minDelayMs', 'maxDelayMs', 'maxQueued'].map(
    setting,
  );
  const { onOpen, onFrame, onState } = options;
  const target = typeof url === 'function' ? url : () => url;
  // SockJS has WebSocket's readyState values, so the checks below hold for either.
  const createSocket = options.createSocket ?? ((u) => new WebSocket(socketUrl(u)));
  const queue = [];
  let socket;
  let state = 'connecting';
  let attempt = 0;
  let timer;
  let closed = false;

  const setState = (next) => {
    if (next === state) return;
    state = next;
    onState?.(next);
  };
  const isOpen = () => socket !== undefined && socket.readyState === WebSocket.OPEN;
  const sendNow = (frame) => socket.send(JSON.stringify(frame));

  const open = () => {
    setState(attempt === 0 ? 'connecting' : 'reconnecting');
    socket = createSocket(target());
    socket.onopen = () => {
      attempt = 0;
      // What every open sends first (the subscriptions held) goes before the state's
      // listeners run, so that what they send on `open` is not sent twice.
      onOpen?.(sendNow);
      setState('open');
      for (const frame of queue.splice(0)) sendNow(frame);
    };
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return onFrame?.(event.data);
      }
      onFrame?.(frame);
    };
    socket.onclose = () => {
      if (closed) return setState('closed');
      const delay = Math.min(maxDelayMs, minDelayMs * 2 ** attempt++);
      setState('reconnecting');
      timer = setTimeout(open, Math.random() * delay);
    };
  };
  open();

  return {
    get state() {
      return state;
    },
    /** Sends now when open; otherwise queues the frame for the next open. */
    send(frame) {
      if (isOpen()) return sendNow(frame);
      if (queue.length >= maxQueued) queue.shift();
      queue.push(frame);
    },
    /** Sends now when open and returns true; otherwise drops the frame and returns false. */
    sendIfOpen(frame) {
      if (!isOpen()) return false;
      sendNow(frame);
      return true;
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      // Between two attempts there is no socket to wait for.
      if (socket.readyState === WebSocket.CLOSED) setState('closed');
      else socket.close(1000);
    },
  };
}
