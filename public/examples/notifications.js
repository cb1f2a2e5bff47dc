// The notification stream page: the user from the query (`?user=demo` by
// default, `&token=` passed through), the stream's state, its messages newest
// first and the user's rooms as channel changes announce them. Every payload
// goes into the page as text, never as markup.
import { openNotificationSource } from './notificationSource.js';

/** Where the server serves the streams (NOTIFY_PATH); relative, so any host works. */
const STREAM_PATH = '/';
const DEFAULT_USER = 'demo';
const KEEP = 50;

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
    'The server refused this stream: the user id is not valid, the user has no channels, or the token is missing or wrong. The page does not retry; change the user or token above.',
  error:
    'The server could not reach its store and ended the stream. The browser reconnects by itself in a few seconds.',
  reconnecting: 'The connection was lost. Reconnecting by itself…',
  disconnected:
    "The user's channel set became empty, so the server ended the stream. Connect again once the user has channels.",
};

const numbers = new Intl.NumberFormat();
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

let stream;
let messages = 0;
let noops = 0;

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
  showRooms(undefined);
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
  });
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
    rooms === undefined ? 'Known after the first channel change.' : 'In no rooms.';
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
$('clear').addEventListener('click', () => {
  list.replaceChildren();
  listEmpty.hidden = false;
});

connect(fromQuery());
