// The status panel: connection state in words and colour, messages and score
// updates per second, and when the last update arrived.

const LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};
// A stream the server ends on purpose (SSE_FORCE_REFRESH) is back within a
// moment; only a drop that lasts longer than this is shown.
const SHOW_DROP_AFTER_MS = 1500;
const numbers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export class StatusPanel {
  /** @param {Document} doc */
  constructor(doc) {
    this.root = doc.getElementById('status');
    this.stateText = doc.getElementById('state-text');
    this.notice = doc.getElementById('notice');
    this.messagesEl = doc.getElementById('rate-messages');
    this.updatesEl = doc.getElementById('rate-updates');
    this.totalEl = doc.getElementById('total');
    this.lastEl = doc.getElementById('last-update');
    this.messages = 0;
    this.updates = 0;
    this.last = 0;
    this.since = performance.now();
    this.state = '';
    setInterval(() => this.tick(), 1000);
  }

  setState(state) {
    if (state === 'reconnecting' && this.state === 'live') {
      this.pending ??= setTimeout(() => this.show(state), SHOW_DROP_AFTER_MS);
      return;
    }
    this.show(state);
  }

  show(state) {
    clearTimeout(this.pending);
    this.pending = undefined;
    if (state === this.state) return;
    this.state = state;
    this.root.dataset.state = state;
    document.body.dataset.connection = state;
    this.stateText.textContent = LABELS[state] ?? state;
    this.notice.hidden = state !== 'reconnecting';
  }

  /** One SSE message carrying `updates` score updates. */
  message(updates = 0) {
    this.messages++;
    this.updates += updates;
    this.last = Date.now();
  }

  setTotal(total) {
    this.totalEl.textContent = numbers.format(total);
  }

  tick() {
    const now = performance.now();
    const seconds = (now - this.since) / 1000;
    this.messagesEl.textContent = numbers.format(this.messages / seconds);
    this.updatesEl.textContent = numbers.format(this.updates / seconds);
    this.messages = 0;
    this.updates = 0;
    this.since = now;
    if (this.last) {
      const date = new Date(this.last);
      this.lastEl.dateTime = date.toISOString();
      this.lastEl.textContent = clock.format(date);
    }
  }
}
