// The detail view: one emoji's tweets as /subscribe/details/:id delivers them,
// in a modal dialog. Closing the dialog closes its stream.
import { codepointLabel, emojiFromId, isEmojiId } from './emoji.js';
import { openLiveSource } from './liveSource.js';

const KEEP = 40;
const numbers = new Intl.NumberFormat();
const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const STATES = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' };

export class DetailView {
  /**
   * @param {Document} doc
   * @param {{ board: import('./scoreBoard.js').ScoreBoard, onMessage: () => void }} options
   */
  constructor(doc, { board, onMessage }) {
    this.dialog = doc.getElementById('detail');
    this.glyph = doc.getElementById('detail-glyph');
    this.title = doc.getElementById('detail-title');
    this.scoreEl = doc.getElementById('detail-score');
    this.countEl = doc.getElementById('detail-count');
    this.stateEl = doc.getElementById('detail-state');
    this.list = doc.getElementById('tweets');
    this.empty = doc.getElementById('tweets-empty');
    this.pauseButton = doc.getElementById('detail-pause');
    this.board = board;
    this.onMessage = onMessage;
    this.stream = undefined;
    this.id = '';
    this.pending = [];
    this.frame = 0;
    this.paused = false;
    this.received = 0;

    doc.getElementById('detail-close').addEventListener('click', () => this.dialog.close());
    this.pauseButton.addEventListener('click', () => this.setPaused(!this.paused));
    // A click on the backdrop lands on the dialog element itself.
    this.dialog.addEventListener('click', (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
    this.dialog.addEventListener('close', () => this.stop());
    board.onScore((id, score) => {
      if (id === this.id) this.scoreEl.textContent = numbers.format(score);
    });
  }

  open(id, opener) {
    this.stop();
    this.id = id;
    this.opener = opener;
    this.received = 0;
    this.pending = [];
    this.list.replaceChildren();
    this.empty.hidden = false;
    this.setPaused(false);
    this.glyph.textContent = emojiFromId(id);
    this.title.textContent = codepointLabel(id);
    this.dialog.dataset.id = id;
    this.scoreEl.textContent = numbers.format(this.board.score(id));
    this.countEl.textContent = '0';
    if (!isEmojiId(id)) {
      // The server would answer 400: say so rather than retry for ever.
      this.stateEl.textContent = 'not an emoji id this server streams';
      this.dialog.dataset.state = 'invalid';
      if (!this.dialog.open) this.dialog.showModal();
      return;
    }
    this.stream = openLiveSource(`/subscribe/details/${encodeURIComponent(id)}`, {
      cleanup: `/subscribe/cleanup/details/${encodeURIComponent(id)}`,
      events: { [`stream.tweet_updates.${id}`]: (e) => this.receive(e.data) },
      onState: (state) => {
        this.stateEl.textContent = STATES[state] ?? state;
        this.dialog.dataset.state = state;
      },
    });
    if (!this.dialog.open) this.dialog.showModal();
  }

  stop() {
    this.stream?.close();
    this.stream = undefined;
    this.id = '';
    delete this.dialog.dataset.id;
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.opener?.isConnected) this.opener.focus({ preventScroll: true });
    this.opener = undefined;
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.setAttribute('aria-pressed', String(paused));
    this.pauseButton.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) this.schedule();
  }

  receive(data) {
    this.onMessage();
    let tweet;
    try {
      tweet = JSON.parse(data);
    } catch {
      return;
    }
    if (!tweet || typeof tweet !== 'object') return;
    this.received++;
    this.pending.push(tweet);
    if (this.pending.length > KEEP) this.pending.splice(0, this.pending.length - KEEP);
    this.schedule();
  }

  schedule() {
    if (!this.frame && !this.paused && this.pending.length > 0)
      this.frame = requestAnimationFrame(() => this.paint());
  }

  paint() {
    this.frame = 0;
    this.countEl.textContent = numbers.format(this.received);
    if (this.paused) return;
    const items = this.pending.splice(0).reverse().map(renderTweet);
    this.list.prepend(...items);
    while (this.list.children.length > KEEP) this.list.lastElementChild.remove();
    this.empty.hidden = this.list.children.length > 0;
  }
}

/** Tweet fields go in as text, never as markup. */
function renderTweet(tweet) {
  const li = document.createElement('li');
  li.className = 'tweet';
  const name = str(tweet.name) || str(tweet.screen_name) || 'someone';
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.setAttribute('aria-hidden', 'true');
  avatar.textContent = initials(name);
  avatar.style.setProperty('--hue', String(hue(str(tweet.screen_name) || name)));
  const head = document.createElement('p');
  head.className = 'who';
  const strong = document.createElement('strong');
  strong.textContent = name;
  head.append(strong);
  if (str(tweet.screen_name)) {
    const handle = document.createElement('span');
    handle.className = 'handle';
    handle.textContent = `@${str(tweet.screen_name)}`;
    head.append(' ', handle);
  }
  const when = new Date(str(tweet.created_at));
  if (!Number.isNaN(when.getTime())) {
    const time = document.createElement('time');
    time.dateTime = when.toISOString();
    time.textContent = clock.format(when);
    head.append(' ', time);
  }
  const text = document.createElement('p');
  text.className = 'text';
  text.textContent = str(tweet.text);
  li.append(avatar, head, text);
  return li;
}

function str(v) {
  return typeof v === 'string' ? v : '';
}

function initials(name) {
  const parts = name.trim().split(/\s+/).slice(0, 2);
  return (
    parts
      .map((p) => [...p][0] ?? '')
      .join('')
      .toUpperCase() || '?'
  );
}

function hue(s) {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}
