// The chat page: join with a name, then say things in `chat.lobby`. Everything
// about the protocol is in /clients/pubsub.js; the server stamps each message
// with the sender's name and time (its push trap), so this only shows them. A
// name the server refuses (its authenticator: see CHAT_NAME in chatRoom.ts)
// ends the connection and says so; `?name=` fills the name in.
import { connect } from '../clients/pubsub.js';

const ROOM = 'chat.lobby';
const REFUSED = `not allowed to subscribe ${ROOM}`;
const $ = (id) => document.getElementById(id);
let client;

function show({ name, text, at }) {
  const item = document.createElement('li');
  const who = document.createElement('strong');
  who.textContent = name;
  const time = document.createElement('time');
  time.dateTime = new Date(at).toISOString();
  time.textContent = new Date(at).toLocaleTimeString();
  item.append(who, ` ${text} `, time);
  $('messages').append(item);
  item.scrollIntoView({ block: 'end' });
}

function showState(state, text = state) {
  $('state').dataset.state = state;
  $('state').textContent = text;
}

/** The message form, shown only while the server has the page in the room. */
function inRoom(yes) {
  $('say').dataset.ready = String(yes);
  $('say').hidden = !yes;
}

function refused(name) {
  client?.close();
  client = undefined;
  inRoom(false);
  showState('refused', 'refused');
  $('notice').textContent =
    `The server refused the name “${name}” (${REFUSED}): a name is 1–24 letters, digits, ` +
    'spaces, _ . or -, starting with a letter or a digit. Pick another and join again.';
  $('name').focus();
}

$('join').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('name').value.trim();
  client?.close();
  inRoom(false);
  $('notice').textContent = '';
  const mine = connect(`/pubsub?name=${encodeURIComponent(name)}`);
  client = mine;
  // A closed client's last words (its `closed` state) are not this one's.
  const current = () => client === mine;
  mine.on('state', (state) => {
    if (!current()) return;
    // In the room again only once the server acknowledges the subscription.
    inRoom(false);
    showState(state);
  });
  mine.on('message', ({ channel, message }) => current() && channel === ROOM && show(message));
  mine.on('control', ({ content, error }) => {
    if (!current()) return;
    if (error && content === REFUSED) return refused(name);
    $('notice').textContent = error ? content : '';
    if (content === `Subscribed to ${ROOM}`) {
      inRoom(true);
      $('text').focus();
    }
  });
  mine.subscribe(ROOM);
});

$('say').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!client || $('say').dataset.ready !== 'true') return;
  client.publish(ROOM, { text: $('text').value });
  $('text').value = '';
});

// `chat.html?name=Ada` comes with the name filled in.
const named = new URLSearchParams(location.search).get('name');
if (named) $('name').value = named;
