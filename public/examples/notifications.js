// The notification stream page: the user from the query (`?user=demo` by
// default, `&token=` passed through), the stream's state, its messages newest
// first, the user's rooms as channel changes announce them (a message
// `{"type":"channels","rooms":[…]}` on the user's own channel, which the demo
// publishes and an app server may: the stream itself never lists them), and
// how it came back after a reconnect: resumed where it left off, or with
// channels whose missed messages are gone (the page should be reloaded). Every
// payload goes into the page as text, never as markup.
import { openNotificationSource } from './notificationSource.js';

/** Where the server serves the streams (NOTIFY_PATH); relative, so any host works. */
const STREAM_PATH = '/';
const DEFAULT_USER = 'demo';
const KEEP = 50;
/** How long "Back — nothing missed" stays up. */
const RESUMED_SHOWN_MS = 6_000;

const LABELS = {
  connecting: 'Connecting…',
  ok: 'OK · live',
  failure: 'Failure',
  error: 'Error · reconnecting…',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};
const NOTICES = {
  failure:
    'The server refused this stream: the user id is not valid, the user has no channels, or the token is missing, wrong or expired. Which one is in the server’s log, and in the stream itself (a “: failure reason=…” line, which browsers do not pass on: open the stream URL with curl -N). The page does not retry; change the user or token above.',
  error:
    'The server could not reach its store and ended the stream. The browser reconnects by itself in a few seconds.',
  reconnecting:
    'The connection was lost. Reconnecting by itself; the stream picks up where it left off.',
  disconnected:
    "The user's channel set became empty, so the server ended the stream. Connect again once the user has channels.",
};

const numbers = new Intl.NumberFormat();
/** `a`, `a and b`, `a, b, and c`: the page's text is English. */
const inWords = new Intl.ListFormat('en', { type: 'conjunction' });
const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const $ = (id) => document.getElementById(id);
const form = $('user-form');
const userInput = $('user');
const tokenInput = $('token');
const statusEl = $('status');
const stateText = $('state-text');
const notice = $('notice');
const list = $('notes');
const listEmpty = $('notes-empty');
const roomsList = $('rooms');
const roomsEmpty = $('rooms-empty');
const recovery = $('recovery');

let stream;
/** Whose rooms are shown: named in what the page says it waits for. */
let roomsUser = DEFAULT_USER;
let messages = 0;
let noops = 0;
/** The channels whose missed messages the server could not give back since the page loaded. */
let gaps = new Set();
let recoveryTimer;

/** The user and token in the page's query; an absent user is the demo's. */
function fromQuery() {
  const query = new URLSearchParams(location.search);
  return { user: query.get('user') ?? DEFAULT_USER, token: query.get('token') ?? '' };
}

function streamUrl({ user, token }) {
  const query = new URLSearchParams({ user });
  if (token) query.set('token', token);
  return `${STREAM_PATH}?${query}`;
}

function connect(who) {
  stream?.close();
  messages = 0;
  noops = 0;
  userInput.value = who.user;
  tokenInput.value = who.token;
  $('user-shown').textContent = who.user;
  $('message-count').textContent = '0';
  $('noop-count').textContent = '0';
  setTime($('noop-last'), undefined);
  // The token stays out of what the page shows.
  $('stream-url').textContent = streamUrl({ user: who.user, token: who.token ? '…' : '' });
  list.replaceChildren();
  listEmpty.hidden = false;
  roomsUser = who.user;
  showRooms(undefined);
  gaps = new Set();
  hideRecovery();
  stream = openNotificationSource(streamUrl(who), {
    onState: showState,
    onNoop: () => {
      $('noop-count').textContent = numbers.format(++noops);
      setTime($('noop-last'), new Date());
    },
    // Notes are numbered as they arrive: the event ids are the stream's
    // position (opaque), which the browser sends back to resume from.
    onMessage: (data) => {
      $('message-count').textContent = numbers.format(++messages);
      list.prepend(renderNote(data, messages, new Date()));
      while (list.children.length > KEEP) list.lastElementChild.remove();
      listEmpty.hidden = true;
    },
    onResumed: showResumed,
    onUnrecovered: showUnrecovered,
  });
}

/** Back after a reconnect with everything it missed: said briefly, unless a gap is still shown. */
function showResumed({ caughtUp }) {
  if (recovery.dataset.kind === 'unrecovered') return;
  const notes = `${numbers.format(caughtUp)} ${caughtUp === 1 ? 'note' : 'notes'}`;
  showRecovery(
    'resumed',
    'Back — nothing missed.',
    caughtUp === 0
      ? 'The stream resumed where it left off.'
      : `The stream resumed where it left off: ${notes} caught up.`,
  );
  recoveryTimer = setTimeout(hideRecovery, RESUMED_SHOWN_MS);
}

/** Back without what some channels missed: says which, and stays until the page is reloaded or dismissed. */
function showUnrecovered({ reason, channels }) {
  for (const channel of channels) gaps.add(channel);
  const names = [...gaps].sort();
  const which =
    names.length === 0
      ? 'the stream’s channels'
      : `${names.length === 1 ? 'channel' : 'channels'} ${inWords.format(names)}`;
  showRecovery(
    'unrecovered',
    'Some notifications may be missing.',
    `While the page was away, messages on ${which} could not be caught up on, so the list below may have a gap. Reload the page to start again from what is current.`,
    reason,
  );
}

function showRecovery(kind, headline, text, reason = '') {
  clearTimeout(recoveryTimer);
  recovery.dataset.kind = kind;
  const strong = document.createElement('strong');
  strong.textContent = headline;
  $('recovery-text').replaceChildren(strong, ' ', text);
  $('recovery-reason').textContent = reason ? `Server: ${reason}` : '';
  $('recovery-reason').hidden = !reason;
  $('recovery-actions').hidden = kind !== 'unrecovered';
  recovery.hidden = false;
}

function hideRecovery() {
  clearTimeout(recoveryTimer);
  recovery.hidden = true;
  recovery.dataset.kind = '';
}

function showState(state) {
  statusEl.dataset.state = state;
  document.body.dataset.connection = state;
  stateText.textContent = LABELS[state] ?? state;
  notice.textContent = NOTICES[state] ?? '';
  notice.dataset.kind = state;
  notice.hidden = !NOTICES[state];
}

/** The rooms a channel change lists, or none known yet. */
function showRooms(rooms) {
  roomsList.replaceChildren(
    ...(rooms ?? []).map((room) => {
      const li = document.createElement('li');
      li.className = 'chip';
      li.textContent = room;
      return li;
    }),
  );
  roomsEmpty.hidden = rooms !== undefined && rooms.length > 0;
  roomsEmpty.textContent =
    rooms === undefined
      ? `None known yet: waiting for a {"type":"channels","rooms":[…]} message on user:${roomsUser}.`
      : 'In no rooms.';
}

/** One message: the demo's room messages and channel changes by their fields, anything else as sent. */
function renderNote(data, n, at) {
  const payload = parse(data);
  const li = document.createElement('li');
  li.className = 'note';
  const head = document.createElement('p');
  head.className = 'note-head';
  const what = document.createElement('strong');
  const meta = document.createElement('span');
  meta.className = 'note-meta';
  const time = document.createElement('time');
  setTime(time, at);
  meta.append(`#${n} · `, time);
  const body = document.createElement('p');
  body.className = 'note-text';

  if (isChannels(payload)) {
    li.dataset.kind = 'channels';
    what.textContent = 'Channels changed';
    const parts = [];
    if (typeof payload.joined === 'string') parts.push(`joined ${payload.joined}`);
    if (typeof payload.left === 'string') parts.push(`left ${payload.left}`);
    parts.push(`now in ${payload.rooms.join(', ') || 'no rooms'}`);
    body.textContent = capitalise(parts.join(' · '));
    showRooms(payload.rooms);
  } else if (isRoomMessage(payload)) {
    li.dataset.kind = 'message';
    what.textContent = payload.room;
    body.textContent = payload.text;
  } else {
    li.dataset.kind = 'raw';
    what.textContent = 'Message';
    const code = document.createElement('code');
    code.textContent = data;
    body.append(code);
  }
  head.append(what, ' ', meta);
  li.append(head, body);
  return li;
}

function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

function isRoomMessage(p) {
  return p?.type === 'message' && typeof p.room === 'string' && typeof p.text === 'string';
}

function isChannels(p) {
  return (
    p?.type === 'channels' && Array.isArray(p.rooms) && p.rooms.every((r) => typeof r === 'string')
  );
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function setTime(el, date) {
  if (!date) {
    el.removeAttribute('datetime');
    el.textContent = '–';
    return;
  }
  el.dateTime = date.toISOString();
  el.textContent = clock.format(date);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const who = { user: userInput.value.trim(), token: tokenInput.value.trim() };
  const query = new URLSearchParams({ user: who.user });
  if (who.token) query.set('token', who.token);
  history.pushState(null, '', `?${query}`);
  connect(who);
});
addEventListener('popstate', () => connect(fromQuery()));
$('reload').addEventListener('click', () => location.reload());
$('dismiss').addEventListener('click', () => {
  hideRecovery();
  gaps = new Set();
});
$('clear').addEventListener('click', () => {
  list.replaceChildren();
  listEmpty.hidden = false;
});

connect(fromQuery());
