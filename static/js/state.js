// Client-side state: the latest server state plus the accumulated loss history and parameter path. (The
// link in the address bar, with the view options, is link.js.)

export const SETTINGS = ["loss_type", "step_size", "reg", "reg_gradient", "optimizer", "batch_size", "h", "search_scale"];
const PATH_MAX = 5000;

// The view of one session: the server's state, the whole loss history and the path the parameters took.
export class View {
  constructor(state) {
    this.replace(state);
  }

  replace(state) {
    this.state = state;
    this.history = state.history.slice();
    this.testHistory = state.test_history?.slice() ?? null; // aligned with history; null: no test set
    this.historyStart = state.history_start;
    this.path = [{ W: state.W, b: state.b }];
    this.summary = false; // true while the per-example arrays are those of an earlier state (see merge)
  }

  // Merge a response: `history` holds the losses after steps history_start, history_start + 1, ….
  merge(state) {
    const offset = state.history_start - this.historyStart;
    const ok = offset >= 0 && offset <= this.history.length;
    if (ok) this.history = this.history.slice(0, offset).concat(state.history);
    if (ok) this.testHistory = mergeTests(this.testHistory, this.history.length, offset, state.test_history);
    const moved = !sameParams(state, this.state);
    // A summary (large data, during the repeated update) omits the per-example arrays: keep the last ones.
    this.summary = state.X === null;
    const keep = this.summary ? { X: this.state.X, y: this.state.y, scores: this.state.scores, losses: this.state.losses } : {};
    if (this.summary && state.n_test) Object.assign(keep, { X_test: this.state.X_test, y_test: this.state.y_test });
    this.state = { ...state, ...keep };
    if (moved) {
      this.path.push({ W: state.W, b: state.b });
      if (this.path.length > PATH_MAX) this.path.splice(0, this.path.length - PATH_MAX);
    }
    return ok;
  }
}

// The test losses, aligned with the history: null before a test set existed (and after it was removed).
function mergeTests(old, length, offset, fresh) {
  if (!fresh) return null;
  const kept = (old ?? []).slice(0, offset);
  while (kept.length < offset) kept.unshift(null);
  const merged = kept.concat(fresh);
  while (merged.length < length) merged.unshift(null);
  return merged.slice(-length);
}

function sameParams(a, b) {
  return a.W.length === b.W.length && a.W.every((row, k) => row[0] === b.W[k][0] && row[1] === b.W[k][1] && a.b[k] === b.b[k]);
}

export function paramNames(classes) {
  const names = [];
  for (let k = 0; k < classes; k++) names.push(`W[${k},0]`, `W[${k},1]`);
  for (let k = 0; k < classes; k++) names.push(`b[${k}]`);
  return names;
}

export function paramValue(name, W, b) {
  const m = /^W\[(\d+),(\d)\]$/.exec(name);
  return m ? W[+m[1]][+m[2]] : b[+/^b\[(\d+)\]$/.exec(name)[1]];
}
