// Client-side state: the latest server state plus the accumulated loss history and parameter path, the view
// options, and the share-link encoding (TensorFlow-Playground style: settings in the URL hash).

import { PALETTE_NAMES } from "./palette.js";

export const SETTINGS = ["loss_type", "step_size", "reg", "reg_gradient", "optimizer", "batch_size", "h", "search_scale"];
export const SHARE_MAX_POINTS = 200; // a link carries the data only up to this many points
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
  }

  // Merge a response: `history` holds the losses after steps history_start, history_start + 1, ….
  merge(state) {
    const offset = state.history_start - this.historyStart;
    const ok = offset >= 0 && offset <= this.history.length;
    if (ok) this.history = this.history.slice(0, offset).concat(state.history);
    if (ok) this.testHistory = mergeTests(this.testHistory, this.history.length, offset, state.test_history);
    const moved = !sameParams(state, this.state);
    // A summary (large data, during the repeated update) omits the per-example arrays: keep the last ones.
    const keep = state.X === null ? { X: this.state.X, y: this.state.y, scores: this.state.scores, losses: this.state.losses } : {};
    if (state.X === null && state.n_test) Object.assign(keep, { X_test: this.state.X_test, y_test: this.state.y_test });
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

// Options of the view, not of the session: remembered in this browser (localStorage) and carried by links
// ("#present=1&palette=original"); a link's value wins over the remembered one.
export const VIEW_DEFAULTS = { present: false, palette: "default" };
const VIEW_STORE = "view-options";

export function readViewOptions(hash = location.hash) {
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(VIEW_STORE) ?? "{}") ?? {};
  } catch { /* unreadable: the defaults */ }
  const params = new URLSearchParams(hash.slice(1));
  const options = { ...VIEW_DEFAULTS };
  if (typeof stored.present === "boolean") options.present = stored.present;
  if (PALETTE_NAMES.includes(stored.palette)) options.palette = stored.palette;
  if (params.has("present")) options.present = params.get("present") === "1";
  if (PALETTE_NAMES.includes(params.get("palette"))) options.palette = params.get("palette");
  return options;
}

// Remember the options and show them in the address bar, keeping whatever else the hash holds.
export function writeViewOptions(options) {
  try {
    localStorage.setItem(VIEW_STORE, JSON.stringify(options));
  } catch { /* storage refused (private mode): the link still carries them */ }
  const params = new URLSearchParams(location.hash.slice(1));
  setViewParams(params, options);
  const hash = params.toString();
  history.replaceState(null, "", `${location.pathname}${location.search}${hash ? "#" + hash : ""}`);
}

function setViewParams(params, options) {
  for (const key of Object.keys(VIEW_DEFAULTS)) {
    if (options[key] === VIEW_DEFAULTS[key]) params.delete(key);
    else params.set(key, key === "present" ? "1" : options[key]);
  }
}

export function shareHash(state, viewOptions = VIEW_DEFAULTS) {
  const params = new URLSearchParams();
  setViewParams(params, viewOptions);
  for (const key of SETTINGS) params.set(key, state[key]);
  params.set("W", JSON.stringify(state.W));
  params.set("b", JSON.stringify(state.b));
  if (state.X && state.X.length <= SHARE_MAX_POINTS) {
    params.set("X", JSON.stringify(state.X.map((p) => p.map((v) => +v.toFixed(4)))));
    params.set("y", JSON.stringify(state.y));
  }
  return "#" + params.toString();
}

// Put a link to this state in the address bar (and the clipboard, where allowed); returns what to tell the user.
export async function shareLink(state, viewOptions) {
  const url = `${location.origin}${location.pathname}${shareHash(state, viewOptions)}`;
  history.replaceState(null, "", url);
  const copied = await navigator.clipboard?.writeText(url).then(() => true, () => false);
  const where = copied ? "Link copied: it opens this state" : "The address bar now holds a link to this state";
  const data = state.n_points > SHARE_MAX_POINTS
    ? ` (with the original data: ${state.n_points} points are too many for a link; use Export)` : "";
  return `${where}${data}.`;
}

// The body of POST /api/sessions that recreates a shared state, or null if the hash holds none.
export function parseHash(hash) {
  if (!hash || hash.length < 2) return null;
  const params = new URLSearchParams(hash.slice(1));
  const body = {};
  for (const key of SETTINGS) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    body[key] = ["loss_type", "reg_gradient", "optimizer"].includes(key) ? raw : Number(raw);
  }
  for (const key of ["W", "b", "X", "y"]) {
    if (params.has(key)) {
      try {
        body[key] = JSON.parse(params.get(key));
      } catch {
        return { invalid: key };
      }
    }
  }
  return Object.keys(body).length ? body : null;
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
