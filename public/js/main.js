// The live page: a ranking from /api/scores kept current by /subscribe/eps, and
// a detail view per emoji. Re-fetches the ranking whenever the stream (re)opens,
// so a server restart or a long disconnect leaves no gap.
import { DetailView } from './detailView.js';
import { openLiveSource } from './liveSource.js';
import { ScoreBoard } from './scoreBoard.js';
import { StatusPanel } from './statusPanel.js';

const status = new StatusPanel(document);
const empty = document.getElementById('board-empty');
const board = new ScoreBoard(document.getElementById('board'), {
  onSelect: (id, opener) => detail.open(id, opener),
});
const detail = new DetailView(document, { board, onMessage: () => status.message() });

const hold = document.getElementById('hold-order');
hold.addEventListener('click', () => {
  const held = hold.getAttribute('aria-pressed') !== 'true';
  hold.setAttribute('aria-pressed', String(held));
  board.setHoldOrder(held);
});

let snapshotRequest = 0;
async function loadSnapshot() {
  const mine = ++snapshotRequest;
  try {
    const res = await fetch('/api/scores', { cache: 'no-store' });
    if (!res.ok) return;
    const scores = await res.json();
    // A slower, older answer must not overwrite a newer one.
    if (mine !== snapshotRequest || !Array.isArray(scores)) return;
    board.replaceAll(scores.filter((s) => typeof s?.id === 'string' && Number.isFinite(s.score)));
    status.setTotal(board.total);
    empty.hidden = board.cells.size > 0;
  } catch {
    // The stream's own state already tells the user the server is unreachable.
  }
}

openLiveSource('/subscribe/eps', {
  events: {
    message: (e) => {
      let rollup;
      try {
        rollup = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!rollup || typeof rollup !== 'object') return;
      board.add(rollup);
      let updates = 0;
      for (const n of Object.values(rollup)) if (typeof n === 'number') updates += n;
      status.message(updates);
      status.setTotal(board.total);
      empty.hidden = true;
    },
  },
  onState: (state) => status.setState(state),
  onOpen: () => void loadSnapshot(),
});
