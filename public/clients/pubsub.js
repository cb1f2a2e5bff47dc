// rx-streamer's pub/sub client for browsers: one WebSocket to `/pubsub`, the
// three actions as methods, and a connection that comes back by itself. After
// a drop it reconnects with exponential backoff and full jitter (so a restarted
// server is not met by every client in the same millisecond) and subscribes
// again to every channel it held. Frames sent while it is down wait, bounded.
// Types: pubsub.d.ts beside this file.

const DEFAULTS = { minDelayMs: 500, maxDelayMs: 30_000, maxQueued: 1_000 };

/** `/pubsub` or `ws://host/pubsub`: a path is taken on this page's host, ws or wss alike. */
function socketUrl(url) {
  const u = new URL(url, location.href);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.href;
}

export function connect(url = '/pubsub', options = {}) {
  const settings = { ...DEFAULTS, ...options };
  const target = socketUrl(url);
  const listeners = { message: new Set(), control: new Set(), frame: new Set(), state: new Set() };
  const channels = new Set();
  const queue = [];
  let socket;
  let state = 'connecting';
  let attempt = 0;
  let timer;
  let closed = false;

  const emit = (type, value) => {
    for (const fn of listeners[type]) {
      try {
        fn(value);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  };
  const setState = (next) => {
    if (next === state) return;
    state = next;
    emit('state', next);
  };
  const sendNow = (frame) => socket.send(JSON.stringify(frame));
  const send = (frame) => {
    if (socket && socket.readyState === WebSocket.OPEN) return sendNow(frame);
    if (queue.length >= settings.maxQueued) queue.shift();
    queue.push(frame);
  };

  const open = () => {
    setState(attempt === 0 ? 'connecting' : 'reconnecting');
    socket = new WebSocket(target);
    socket.onopen = () => {
      attempt = 0;
      setState('open');
      for (const channel of channels) sendNow({ action: 'subscribe', payload: { channel } });
      // Subscribes queued while down are already in `channels`.
      for (const frame of queue.splice(0)) if (frame.action !== 'subscribe') sendNow(frame);
    };
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return emit('frame', event.data);
      }
      if (frame && frame.controlMessage === true)
        emit('control', { content: frame.content, error: frame.error === true });
      else if (frame && typeof frame.channel === 'string' && 'message' in frame)
        emit('message', { channel: frame.channel, message: frame.message });
      else emit('frame', frame);
    };
    socket.onclose = () => {
      if (closed) return setState('closed');
      const delay = Math.min(settings.maxDelayMs, settings.minDelayMs * 2 ** attempt++);
      setState('reconnecting');
      timer = setTimeout(open, Math.random() * delay);
    };
  };
  open();

  return {
    get state() {
      return state;
    },
    get channels() {
      return [...channels];
    },
    subscribe(channel) {
      channels.add(channel);
      send({ action: 'subscribe', payload: { channel } });
    },
    unsubscribe(channel) {
      channels.delete(channel);
      send({ action: 'unsubscribe', payload: { channel } });
    },
    publish(channel, message) {
      send({ action: 'publish', payload: { channel, message } });
    },
    /** Any other frame, for the server's receivers. */
    send(frame) {
      send(frame);
    },
    on(type, fn) {
      if (!listeners[type]) throw new Error(`unknown event ${type}`);
      listeners[type].add(fn);
      return () => listeners[type].delete(fn);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      socket.close(1000);
    },
  };
}
