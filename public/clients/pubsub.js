// rx-streamer's pub/sub client for browsers: one WebSocket to `/pubsub`, the
// three actions as methods, and a connection that comes back by itself. After
// a drop it reconnects with exponential backoff and full jitter (reconnecting.js
// beside this file) and subscribes again to every channel it held. Frames sent
// while it is down wait, bounded. Types: pubsub.d.ts beside this file.
import { listeners, reconnectingSocket } from './reconnecting.js';

const subscribeFrame = (channel) => ({ action: 'subscribe', payload: { channel } });

export function connect(url = '/pubsub', options = {}) {
  const events = listeners(['message', 'control', 'frame', 'state']);
  const channels = new Set();

  const socket = reconnectingSocket(url, {
    minDelayMs: options.minDelayMs,
    maxDelayMs: options.maxDelayMs,
    maxQueued: options.maxQueued,
    onOpen: (sendNow) => {
      for (const channel of channels) sendNow(subscribeFrame(channel));
    },
    onFrame: (frame) => {
      if (frame && frame.controlMessage === true)
        events.emit('control', { content: frame.content, error: frame.error === true });
      else if (frame && typeof frame.channel === 'string' && 'message' in frame)
        events.emit('message', { channel: frame.channel, message: frame.message });
      else events.emit('frame', frame);
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
    subscribe(channel) {
      channels.add(channel);
      // While down, the channel is subscribed on the next open with the others.
      socket.sendIfOpen(subscribeFrame(channel));
    },
    unsubscribe(channel) {
      channels.delete(channel);
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
