// The ranked grid: one button per emoji, scores updated at most once per frame,
// a flash on every update, and the order re-ranked once a second.
import { emojiFromId } from './emoji.js';

const RERANK_MS = 1000;
const numbers = new Intl.NumberFormat();

export class ScoreBoard {
  /**
   * @param {HTMLOListElement} list
   * @param {{ onSelect: (id: string, opener: HTMLElement) => void }} options
   */
  constructor(list, { onSelect }) {
    this.list = list;
    /** @type {Map<string, { li: HTMLLIElement, button: HTMLButtonElement, scoreEl: HTMLElement, rankEl: HTMLElement, score: number, flip: boolean }>} */
    this.cells = new Map();
    this.dirty = new Set();
    this.frame = 0;
    this.holdOrder = false;
    this.pointerDown = false;
    this.total = 0;
    this.listeners = new Set();

    // A click lands on the element under both pointerdown and pointerup, so the
    // grid does not move in between.
    list.addEventListener('pointerdown', () => (this.pointerDown = true));
    addEventListener('pointerup', () => (this.pointerDown = false));
    addEventListener('pointercancel', () => (this.pointerDown = false));
    list.addEventListener('click', (e) => {
      const button = e.target instanceof Element ? e.target.closest('button[data-id]') : null;
      if (button) onSelect(button.dataset.id, button);
    });
    setInterval(() => this.rerank(), RERANK_MS);
  }

  /** Calls back with (id, score) whenever a score changes. */
  onScore(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  score(id) {
    return this.cells.get(id)?.score ?? 0;
  }

  rank(id) {
    const cell = this.cells.get(id);
    return cell ? [...this.list.children].indexOf(cell.li) + 1 : 0;
  }

  /** A snapshot from /api/scores replaces the totals; ids it leaves out start again at zero. */
  replaceAll(scores) {
    const seen = new Set();
    for (const { id, score } of scores) {
      seen.add(id);
      this.set(id, score, false);
    }
    for (const id of this.cells.keys()) if (!seen.has(id)) this.set(id, 0, false);
    this.total = 0;
    for (const cell of this.cells.values()) this.total += cell.score;
    this.rerank(true);
  }

  /** A rollup from /subscribe/eps: `{"1F602": 2, "2665": 1}`. */
  add(rollup) {
    for (const [id, count] of Object.entries(rollup)) {
      if (typeof count !== 'number' || !(count > 0)) continue;
      this.set(id, this.score(id) + count, true);
      this.total += count;
    }
  }

  setHoldOrder(hold) {
    this.holdOrder = hold;
    if (!hold) this.rerank();
  }

  set(id, score, flash) {
    let cell = this.cells.get(id);
    if (!cell) cell = this.create(id);
    cell.score = score;
    cell.flash ||= flash;
    this.dirty.add(cell);
    for (const listener of this.listeners) listener(id, score);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.paint());
  }

  create(id) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'cell';
    button.dataset.id = id;
    button.title = `${id}: show its tweets`;
    const rankEl = document.createElement('span');
    rankEl.className = 'rank';
    const glyph = document.createElement('span');
    glyph.className = 'glyph';
    glyph.textContent = emojiFromId(id);
    const scoreEl = document.createElement('span');
    scoreEl.className = 'score';
    button.append(rankEl, glyph, scoreEl);
    li.append(button);
    this.list.append(li);
    const cell = { li, button, scoreEl, rankEl, score: 0, flash: false, flip: false };
    this.cells.set(id, cell);
    this.list.dataset.count = String(this.cells.size);
    return cell;
  }

  paint() {
    this.frame = 0;
    for (const cell of this.dirty) {
      cell.scoreEl.textContent = numbers.format(cell.score);
      cell.button.dataset.score = String(cell.score);
      if (cell.flash) {
        // Switching between two identical animations restarts the flash
        // without forcing a layout.
        cell.flip = !cell.flip;
        cell.button.classList.toggle('flash-a', cell.flip);
        cell.button.classList.toggle('flash-b', !cell.flip);
        cell.flash = false;
      }
    }
    this.dirty.clear();
    this.list.dataset.total = String(this.total);
  }

  rerank(force = false) {
    if (!force && (this.holdOrder || this.pointerDown)) return;
    const order = [...this.cells.entries()].sort(
      ([a, x], [b, y]) => y.score - x.score || (a < b ? -1 : a > b ? 1 : 0),
    );
    const focused = document.activeElement;
    const children = this.list.children;
    let moved = false;
    order.forEach(([, cell], i) => {
      if (children[i] !== cell.li) {
        this.list.insertBefore(cell.li, children[i] ?? null);
        moved = true;
      }
      const rank = String(i + 1);
      if (cell.rankEl.textContent !== rank) cell.rankEl.textContent = rank;
    });
    // Moving a node takes the focus away from it; keyboard users keep their place.
    if (moved && focused instanceof HTMLElement && focused !== document.activeElement) {
      focused.focus({ preventScroll: true });
    }
  }
}
