// The chat page: join with a name, then say things in `chat.lobby`. Everything
// about the protocol is in /clients/pubsub.js; the server stamps each message
// with the sender's name and time (its push trap), so this only shows them.
import { connect } from '../clients/pubsub.js';

const ROOM = 'chat.lobby';
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

$('join').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('name').value.trim();
  client?.close();
  client = connect(`/pubsub?name=${encodeURIComponent(name)}`);
  client.on('state', (state) => {
    // In the room again only once the server acknowledges the subscription.
    $('say').dataset.ready = 'false';
    $('state').dataset.state = state;
    $('state').textContent = state;
  });
  client.on('message', ({ channel, message }) => channel === ROOM && show(message));
  client.on('control', ({ content, error }) => {
    $('notice').textContent = error ? content : '';
    if (content === `Subscribed to ${ROOM}`) {
      $('say').dataset.ready = 'true';
      $('say').hidden = false;
      $('text').focus();
    }
  });
  client.subscribe(ROOM);
});

$('say').addEventListener('submit', (event) => {
  event.preventDefault();
  client.publish(ROOM, { text: $('text').value });
  $('text').value = '';
});
