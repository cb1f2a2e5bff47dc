// The sites page: follow one site (`?site=`, mrc by default), switch with the
// picker. Everything about the protocol is in /clients/datastream.js; this
// shows the site's latest weather and status, and a log of the latest
// messages, newest first. The site shown is marked once the server has
// acknowledged it (`Subscribed to site <site>`), again after each reconnect,
// which also says whether every message missed while away was given.
import { connect } from '../clients/datastream.js';

const DEFAULT_SITE = 'mrc';
const MAX_LOG = 50;
const UNITS = { temperature_c: ' °C', humidity_pct: ' %', wind_mps: ' m/s', sky_temp_c: ' °C' };
const $ = (id) => document.getElementById(id);
let seq = 0;

const format = (field, value) => {
  if (value === undefined || value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return `${String(value)}${UNITS[field] ?? ''}`;
};

/** Empties a panel, as the values it shows belong to the site before. */
function clearPanel(panel) {
  delete panel.dataset.site;
  panel.dataset.count = '0';
  for (const dd of panel.querySelectorAll('[data-field]')) {
    dd.textContent = '–';
    delete dd.dataset.value;
  }
}

function fillPanel(panel, site, data) {
  panel.dataset.site = site;
  panel.dataset.count = String(Number(panel.dataset.count) + 1);
  for (const dd of panel.querySelectorAll('[data-field]')) {
    const value = data?.[dd.dataset.field];
    dd.textContent = format(dd.dataset.field, value);
    dd.dataset.value = JSON.stringify(value ?? null);
  }
}

function log({ site, topic, id }) {
  const now = new Date();
  const item = document.createElement('li');
  item.dataset.site = site;
  item.dataset.topic = topic;
  item.dataset.id = id;
  item.dataset.seq = String(++seq);
  const time = document.createElement('time');
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  const where = document.createElement('strong');
  where.textContent = site;
  const what = document.createElement('span');
  what.textContent = topic;
  item.append(time, ' ', where, ' ', what);
  $('log').prepend(item);
  while ($('log').children.length > MAX_LOG) $('log').lastElementChild.remove();
}

function showSite(site, acknowledged) {
  for (const button of $('picker').querySelectorAll('button'))
    button.setAttribute('aria-pressed', String(button.dataset.site === site));
  if (acknowledged) $('site').dataset.site = site;
  else delete $('site').dataset.site;
  $('site').textContent = acknowledged ? `Following ${site}` : `Subscribing to ${site}…`;
}

let wanted = new URLSearchParams(location.search).get('site') ?? DEFAULT_SITE;
let client;
try {
  client = connect('/datastream', { site: wanted });
} catch (err) {
  $('notice').textContent = `${err.message}; showing ${DEFAULT_SITE}`;
  wanted = DEFAULT_SITE;
  client = connect('/datastream', { site: wanted });
}
showSite(wanted, false);

client.on('state', (state) => {
  $('state').dataset.state = state;
  $('state').textContent = state;
  // Following the site again only once the server acknowledges it.
  showSite(client.site, false);
});
client.on('control', ({ content, error }) => {
  if (error) {
    $('notice').textContent = content;
    $('notice').dataset.control = 'true';
    return;
  }
  if (content === `Subscribed to site ${client.site}`) {
    // A refusal is over once a site is acknowledged; the fallback's notice stays.
    if ($('notice').dataset.control === 'true') $('notice').textContent = '';
    delete $('notice').dataset.control;
    showSite(client.site, true);
  }
});
client.on('recovered', ({ recovered }) => {
  // Not all was given: the panels show the latest values still, the log has a gap.
  $('state').dataset.recovered = String(recovered);
  $('state').title = recovered ? '' : 'some messages were missed while reconnecting';
});
client.on('message', (message) => {
  log(message);
  // Until the switch is acknowledged the site before may still send a message or two.
  if (message.site !== client.site) return;
  if (message.topic === 'weather') fillPanel($('weather'), message.site, message.data);
  else if (message.topic === 'status') fillPanel($('status'), message.site, message.data);
});

$('picker').addEventListener('click', (event) => {
  const site = event.target.closest('button[data-site]')?.dataset.site;
  if (!site || site === client.site) return;
  client.switchSite(site);
  clearPanel($('weather'));
  clearPanel($('status'));
  showSite(site, false);
  const query = new URLSearchParams(location.search);
  query.set('site', site);
  history.replaceState(null, '', `?${query}`);
});
