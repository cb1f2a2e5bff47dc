// rx-streamer's site stream client for browsers: one WebSocket to
// `/datastream?site=<site>`, every message of that site (or of some of its
// topics) as an event, and a switch to another site on the same socket. The
// connection comes back by itself (reconnecting.js beside this file: backoff
// with full jitter), and on the site it last switched to: each attempt's URL is
// built from the current site and topics, and a switch made while an attempt
// was under way is sent as soon as it opens. Types: datastream.d.ts beside this file.
import { listeners, reconnectingSocket } from './reconnecting.js';

// As the server checks them: a name it refuses would be refused on every attempt.
const SITE = /^[A-Za-z0-9_.-]{1,64}$/;
const TOPIC = /^[A-Za-z0-9_.:-]{1,64}$/;

function checkSite(site) {
  if (typeof site !== 'string' || !SITE.test(site))
    throw new TypeError(`site must be 1 to 64 letters, digits and _ . - (got ${String(site)})`);
  return site;
}

/** A topic filter: a list of topics, or null/undefined for every topic. */
function checkTopics(topics) {
  if (topics === undefined || topics === null) return undefined;
  if (!Array.isArray(topics) || topics.length === 0)
    throw new TypeError('topics must be a non-empty list, or null for every topic');
  for (const topic of topics)
    if (typeof topic !== 'string' || !TOPIC.test(topic))
      throw new TypeError(
        `each of topics must be 1 to 64 letters, digits and _ . : - (got ${String(topic)})`,
      );
  return [...new Set(topics)];
}

const sameTopics = (a, b) =>
  a === b || (a !== undefined && b !== undefined && a.join(',') === b.join(','));

export function connect(url = '/datastream', options = {}) {
  const events = listeners(['message', 'control', 'frame', 'state']);
  let site = checkSite(options.site);
  let topics = checkTopics(options.topics);
  /** What the attempt under way asked for in its URL. */
  let asked = { site, topics };

  const address = () => {
    const u = new URL(url, location.href);
    u.searchParams.set('site', site);
    if (topics) u.searchParams.set('topics', topics.join(','));
    else u.searchParams.delete('topics');
    asked = { site, topics };
    return u.href;
  };
  const switchFrame = () => ({ action: 'updatesubscribersite', site, topics: topics ?? null });

  const socket = reconnectingSocket(address, {
    minDelayMs: options.minDelayMs,
    maxDelayMs: options.maxDelayMs,
    maxQueued: options.maxQueued,
    onOpen: (sendNow) => {
      // A switch made after this attempt's URL was built.
      if (asked.site !== site || !sameTopics(asked.topics, topics)) sendNow(switchFrame());
    },
    onFrame: (frame) => {
      if (frame && frame.controlMessage === true)
        events.emit('control', { content: frame.content, error: frame.error === true });
      else if (frame && typeof frame.site === 'string' && typeof frame.topic === 'string')
        events.emit('message', { site: frame.site, topic: frame.topic, data: frame.data });
      else events.emit('frame', frame);
    },
    onState: (state) => events.emit('state', state),
  });

  return {
    get state() {
      return socket.state;
    },
    get site() {
      return site;
    },
    get topics() {
      return topics && [...topics];
    },
    switchSite(next, nextTopics) {
      checkSite(next);
      const filter = nextTopics === undefined ? topics : checkTopics(nextTopics);
      site = next;
      topics = filter;
      // While down, the next attempt's URL names it; while connecting, onOpen sends it.
      socket.sendIfOpen(switchFrame());
    },
    on(type, fn) {
      return events.on(type, fn);
    },
    close() {
      socket.close();
    },
  };
}
