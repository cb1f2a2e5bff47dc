// rx-streamer's site stream client for browsers: one WebSocket to
// `/datastream?site=<site>`, every message of that site (or of some of its
// topics) as an event, and a switch to another site on the same socket. The
// connection comes back by itself (reconnecting.js beside this file: backoff
// with full jitter), and on the site it last switched to: each attempt's URL is
// built from the current site and topics, and a switch made while an attempt
// was under way is sent as soon as it opens. It resumes, too: each attempt asks
// for what came after the last message's id (`lastEventId=`), and the app is
// told with a `recovered` event whether it was given all of it.
// Types: datastream.d.ts beside this file.
import { listeners, reconnectingSocket } from './reconnecting.js';

// As the server checks them: a name it refuses would be refused on every attempt.
const SITE = /^[A-Za-z0-9_.-]{1,64}$/;
const TOPIC = /^[A-Za-z0-9_.:-]{1,64}$/;
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

function checkId(id) {
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string' || !ENTRY_ID.test(id))
    throw new TypeError(`lastEventId must be a message's id, <ms>-<seq> (got ${String(id)})`);
  return id;
}

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
  const events = listeners(['message', 'control', 'frame', 'state', 'recovered']);
  let site = checkSite(options.site);
  let topics = checkTopics(options.topics);
  /** The id of the last message of the site followed: where the next attempt resumes. */
  let lastId = checkId(options.lastEventId);
  /** What the attempt under way asked for in its URL. */
  let asked = { site, topics };
  /** Whether a connection was open before: every attempt after is a reconnect. */
  let wasOpen = false;
  /** On a reconnect (or a resume asked for), whether all is recovered so far, until the reply. */
  let recovery;

  const address = () => {
    const u = new URL(url, location.href);
    u.searchParams.set('site', site);
    if (topics) u.searchParams.set('topics', topics.join(','));
    else u.searchParams.delete('topics');
    if (lastId) u.searchParams.set('lastEventId', lastId);
    else u.searchParams.delete('lastEventId');
    asked = { site, topics };
    // Without an id to resume from, what came while it was away is lost.
    recovery = wasOpen || lastId ? { recovered: lastId !== undefined } : undefined;
    return u.href;
  };
  /** A control frame: the server's word on recovery, and the reply that ends it. */
  const control = (frame) => {
    if (frame.recovered === false && recovery) recovery.recovered = false;
    events.emit('control', {
      content: frame.content,
      error: frame.error === true,
      ...(typeof frame.recovered === 'boolean' ? { recovered: frame.recovered } : {}),
    });
    if (recovery && frame.error !== true && frame.content === `Subscribed to site ${asked.site}`) {
      const recovered = recovery.recovered && frame.recovered === true && asked.site === site;
      recovery = undefined;
      events.emit('recovered', { recovered });
    }
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
      if (frame && frame.controlMessage === true) control(frame);
      else if (frame && typeof frame.site === 'string' && typeof frame.topic === 'string') {
        // Only the site followed: one switched away from may still send a message or two.
        if (frame.site === site && typeof frame.id === 'string') lastId = frame.id;
        events.emit('message', {
          site: frame.site,
          topic: frame.topic,
          data: frame.data,
          id: frame.id,
        });
      } else events.emit('frame', frame);
    },
    onState: (state) => {
      if (state === 'open') wasOpen = true;
      events.emit('state', state);
    },
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
    get lastEventId() {
      return lastId;
    },
    switchSite(next, nextTopics) {
      checkSite(next);
      const filter = nextTopics === undefined ? topics : checkTopics(nextTopics);
      site = next;
      topics = filter;
      // What the new site (or filter) sends comes after its subscription, not after this id.
      lastId = undefined;
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
