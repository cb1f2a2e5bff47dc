// The admin page's behaviour: polls status.json, turns running totals into
// rates, draws the rate chart and fills the tables. Every value coming from a
// client (paths, user agents) goes in as text, never as markup. When the
// document is masked or the token is refused (401), a form asks for the
// ADMIN_TOKEN, kept in sessionStorage and sent as `Authorization: Bearer`.

const params = new URLSearchParams(location.search);
const EVERY_MS = Math.max(250, Number(params.get('every')) || 1000);
const HISTORY = 120;
const SHOWN_ROWS = 500;
const TOKEN_KEY = 'rx-streamer.admin-token';

const $ = (id) => document.getElementById(id);
const history = { in: [], out: [] };
let previous;
let lastOkAt = 0;
let latest;
let pollTimer;
let refused = false;

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage refused (private mode): the token lasts until the next reload.
  }
}

function showTokenForm(note) {
  const form = $('token-form');
  setText('token-note', note);
  form.hidden = false;
}

function fmtCount(n) {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n >= 100 ? Math.round(n).toString() : (Math.round(n * 10) / 10).toString();
}

function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function fmtDuration(s) {
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function setText(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
}

function setState(kind, text) {
  const el = $('state');
  el.className = `pill pill-${kind}`;
  el.textContent = text;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function push(series, value) {
  series.push(value);
  if (series.length > HISTORY) series.shift();
}

function rates(status, now) {
  if (!previous || now <= previous.at) return undefined;
  const s = (now - previous.at) / 1000;
  const per = (key) => Math.max(0, ((status[key] ?? 0) - (previous.status[key] ?? 0)) / s);
  return { in: per('msgs_in'), out: per('msgs_broadcast'), bytes: per('bytes_written') };
}

function renderFamilies(status) {
  const families = status.clients_by_family ?? {};
  const max = Math.max(1, ...Object.values(families));
  const body = $('families').tBodies[0];
  body.replaceChildren(
    ...Object.entries(families).map(([name, count]) => {
      const tr = document.createElement('tr');
      tr.dataset.family = name;
      tr.append(cell(name), cell(String(count), 'num'));
      const bar = document.createElement('td');
      bar.className = 'bar';
      const fill = document.createElement('div');
      fill.className = 'fill';
      fill.style.width = count > 0 ? `${Math.max(1, (100 * count) / max)}%` : '0';
      bar.append(fill);
      tr.append(bar);
      return tr;
    }),
  );
}

function renderConnections(status) {
  const filter = $('filter').value.trim().toLowerCase();
  const nowS = status.reported_at;
  const all = [...status.connections].sort((a, b) => b.created_at - a.created_at);
  const matching = filter
    ? all.filter((c) =>
        `${c.request_path} ${c.client_ip} ${c.user_agent}`.toLowerCase().includes(filter),
      )
    : all;
  const rows = matching.slice(0, SHOWN_ROWS).map((c) => {
    const tr = document.createElement('tr');
    tr.append(
      cell(c.request_path),
      cell(c.client_ip),
      cell(c.user_agent || '—', 'ua'),
      cell(fmtDuration(nowS - c.created_at), 'num'),
      cell(String(c.msgs_sent), 'num'),
    );
    tr.cells[2].title = c.user_agent;
    return tr;
  });
  $('connections').tBodies[0].replaceChildren(...rows);
  // The server lists at most ADMIN_MAX_CONNECTIONS; connections_total counts them all.
  const unlisted = Math.max(0, (status.connections_total ?? all.length) - all.length);
  const hidden = Math.max(0, matching.length - SHOWN_ROWS) + unlisted;
  const more = $('more');
  more.hidden = hidden === 0;
  more.textContent = `…and ${hidden} more${unlisted > 0 ? ` (${unlisted} not listed by the server)` : ''}`;
}

function drawChart() {
  const canvas = $('chart');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const max = Math.max(1, ...history.in, ...history.out) * 1.15;
  const left = 44;
  const bottom = h - 16;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = css.getPropertyValue('--muted');
  ctx.strokeStyle = css.getPropertyValue('--line');
  ctx.lineWidth = 1;
  for (const f of [0, 0.5, 1]) {
    const y = bottom - f * (bottom - 8);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(w, y);
    ctx.stroke();
    ctx.fillText(fmtCount(f * max), 4, y + 4);
  }
  ctx.fillText(`last ${Math.round((HISTORY * EVERY_MS) / 1000)} s`, left, h - 2);
  const line = (series, color) => {
    if (series.length < 2) return;
    const step = (w - left) / (HISTORY - 1);
    const x0 = w - (series.length - 1) * step;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    series.forEach((v, i) => {
      const x = x0 + i * step;
      const y = bottom - (v / max) * (bottom - 8);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  };
  line(history.in, css.getPropertyValue('--accent-in'));
  line(history.out, css.getPropertyValue('--accent-out'));
}

function render(status, now) {
  latest = status;
  const r = rates(status, now);
  previous = { status, at: now };
  if (r) {
    push(history.in, r.in);
    push(history.out, r.out);
    setText('rate-in', fmtCount(r.in));
    setText('rate-broadcast', fmtCount(r.out));
    setText('rate-bytes', fmtBytes(r.bytes));
  }
  setText('node', status.node);
  document.title = `rx-streamer admin · ${status.node}`;
  if (status.ready === false) setState('bad', 'not ready');
  else setState('ok', status.status);
  setText('connections-total', String(status.connections_total ?? status.connections.length));
  if (status.detail === 'masked')
    showTokenForm(refused ? 'That token was refused.' : 'Addresses are masked.');
  else if (status.detail === 'full') $('token-form').hidden = true;
  const uptime = status.uptime_s ?? status.reported_at - status.startup_time;
  setText('uptime', fmtDuration(uptime));
  setText('started', `since ${new Date(status.startup_time * 1000).toLocaleString()}`);
  if (status.memory) {
    setText('memory', fmtBytes(status.memory.rss));
    setText(
      'heap',
      `heap ${fmtBytes(status.memory.heap_used)} of ${fmtBytes(status.memory.heap_total)}`,
    );
  }
  setText('dropped', fmtCount(status.slow_clients_dropped ?? NaN));
  renderFamilies(status);
  renderConnections(status);
  drawChart();
}

async function poll() {
  try {
    const token = storedToken();
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await fetch('status.json', { cache: 'no-store', headers });
    if (res.status === 401) {
      // Forget the token; the next poll gets the masked document.
      storeToken('');
      refused = true;
      showTokenForm('That token was refused.');
      setState('bad', 'token refused');
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const status = await res.json();
    lastOkAt = Date.now();
    render(status, performance.now());
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  } catch (err) {
    setState('bad', `unreachable (${err.message})`);
  } finally {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, EVERY_MS);
  }
}

setInterval(() => {
  if (lastOkAt) setText('updated', `updated ${fmtDuration((Date.now() - lastOkAt) / 1000)} ago`);
}, 250);
$('filter').addEventListener('input', () => latest && renderConnections(latest));
window.addEventListener('resize', drawChart);
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  storeToken($('token').value.trim());
  $('token').value = '';
  refused = false;
  clearTimeout(pollTimer);
  poll();
});
poll();
