// rx-streamer's pub/sub client for browsers: one WebSocket to `/pubsub`, the
// three actions as methods, and a connection that comes back by itself. After
// a drop it reconnects with exponential backoff and full jitter (reconnecting.js
// beside this file) and subscribes again to every channel it held, recovering
// what it missed: it keeps each channel's position (epoch and offset, from the
// subscribe's acknowledgement and then each message's offset) and subscribes
// with `recover` from it. Frames sent while it is down wait, bounded. It speaks
// WebSocket, or SockJS with `createSocket`. Types: pubsub.d.ts beside this file.
import { listeners, reconnectingSocket } from './reconnecting.js';

const isPosition = (frame) => typeof frame.epoch === 'string' && typeof frame.offset === 'number';

export function connect(url = '/pubsub', options = {}) {
  const events = listeners(['message', 'control', 'frame', 'state', 'recovered']);
  const channels = new Set();
  /** Per channel, where it stands: `{epoch, offset}` of the last message it passed on. */
  const positions = new Map();
  /**
   * Channels with a subscribe with `recover` on its way: until its
   * acknowledgement, messages with an offset are replayed after it (or, when
   * unrecovered, the app reloads), so none is passed on or moves the position.
   */
  const recovering = new Set();

  const subscribeFrame = (channel) => {
    const at = positions.get(channel);
    if (!at) return { action: 'subscribe', payload: { channel } };
    recovering.add(channel);
    return { action: 'subscribe', payload: { channel, recover: { ...at } } };
  };

  /** A subscribe's acknowledgement: where the channel starts; whether it was recovered. */
  const acknowledged = (frame) => {
    const { channel, epoch, offset, recovered } = frame;
    if (!channels.has(channel)) return undefined;
    const at = positions.get(channel);
    if (typeof recovered !== 'boolean') {
      if (!at || at.epoch !== epoch || at.offset < offset)
        positions.set(channel, { epoch, offset });
      return undefined;
    }
    recovering.delete(channel);
    // Recovered: what it missed follows, and moves the position on from where it was.
    // Not: it starts at the top, and the app reloads what it shows.
    if (!recovered || !at || at.epoch !== epoch) positions.set(channel, { epoch, offset });
    return { channel, recovered };
  };

  /** Whether a channel message is passed on: not one it had, nor one a recovery replays. */
  const fresh = (channel, offset) => {
    if (typeof offset !== 'number' || !channels.has(channel)) return true;
    if (recovering.has(channel)) return false;
    const at = positions.get(channel);
    if (!at) return true;
    if (offset <= at.offset) return false;
    positions.set(channel, { epoch: at.epoch, offset });
    return true;
  };

  const socket = reconnectingSocket(url, {
    minDelayMs: options.minDelayMs,
    maxDelayMs: options.maxDelayMs,
    maxQueued: options.maxQueued,
    createSocket: options.createSocket,
    onOpen: (sendNow) => {
      recovering.clear();
      for (const channel of channels) sendNow(subscribeFrame(channel));
    },
    onFrame: (frame) => {
      // Control frames first: some carry a `channel` and are not messages.
      if (frame && frame.controlMessage === true) {
        const { channel } = frame;
        let recovery;
        if (typeof channel === 'string' && frame.error !== true) {
          if (frame.gap === true) {
            // Messages were lost on their way to the server: ask for them, one recovery at a time.
            if (channels.has(channel) && !recovering.has(channel))
              socket.sendIfOpen(subscribeFrame(channel));
          } else if (isPosition(frame)) recovery = acknowledged(frame);
        }
        events.emit('control', { content: frame.content, error: frame.error === true });
        if (recovery) events.emit('recovered', recovery);
      } else if (frame && typeof frame.channel === 'string' && 'message' in frame) {
        if (!fresh(frame.channel, frame.offset)) return;
        const message = { channel: frame.channel, message: frame.message };
        if (typeof frame.offset === 'number') message.offset = frame.offset;
        events.emit('message', message);
      } else events.emit('frame', frame);
    },
    onState: (state) => events.emit('state', state),
  });

  return {
    get state() {
      return socket.state;
    },
    get channels() {
      return [...channels];
    },
    /** Where a channel stands (what a subscribe with `recover` resumes from), or undefined. */
    position(channel) {
      const at = positions.get(channel);
      return at ? { ...at } : undefined;
    },
    subscribe(channel, recover) {
      channels.add(channel);
      if (recover) positions.set(channel, { epoch: recover.epoch, offset: recover.offset });
      // While down, the channel is subscribed on the next open with the others.
      socket.sendIfOpen(subscribeFrame(channel));
    },
    unsubscribe(channel) {
      channels.delete(channel);
      positions.delete(channel);
      recovering.delete(channel);
      socket.send({ action: 'unsubscribe', payload: { channel } });
    },
    publish(channel, message) {
      socket.send({ action: 'publish', payload: { channel, message } });
    },
    /** Any other frame, for the server's receivers. */
    send(frame) {
      socket.send(frame);
    },
    on(type, fn) {
      return events.on(type, fn);
    },
    close() {
      socket.close();
    },
  };
}
