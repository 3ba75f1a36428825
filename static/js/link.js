// The link is the view: the address bar's hash follows every change (throttled, history.replaceState) and
// holds the settings, W and b, the data (compressed), the step count with the loss curve, and the view
// options. Opening a link recreates that view; reloading keeps the live session when the hash describes it.
//
// Hash fields (every one optional; view options at their defaults are left out):
//   tag        this tab's session (a random word kept beside the session id in sessionStorage: the id itself,
//              the key to the session, never goes into a link)
//   loss_type … search_scale   the settings;  W, b   JSON
//   step       the step count;  curve   packed {history, start, segments, changes, test}: the loss curve (test:
//              the held-out loss beside each entry, null where unknown; only with a test set)
//   lowest     the lowest loss since the last change;  diverging   1 when the run was blowing up (see divergence.js)
//   data       packed {X, y, X_test, y_test};  preset   JSON of how the data were drawn (redrawn exactly);
//   X, y       JSON (links of the earlier format);  omitted   the number of points left out of the link
//   log, spf, surface, p1, p2, span, slice, present, palette   the view options
// "packed" is deflate-raw (CompressionStream) in base64url. Reading a link is linkread.js.

import { sessions } from "./api.js";
import { VIEW_CHECKS as CHECKS, VIEW_CONTROLS as CONTROLS, pack, parseLink, recreate } from "./linkread.js";
import { PALETTE_NAMES } from "./palette.js";
import { SETTINGS } from "./state.js";

const THROTTLE = 500; // ms between two writes of the hash at most
const DATA_MAX_POINTS = 2000; // points beyond which the data are not even packed
const DATA_MAX_CHARS = 12000; // packed data in a link at most
const CURVE_MAX_CHARS = 6000; // packed loss curve in a link at most
const CURVE_MAX_STEPS = 2000;
const $ = (id) => document.getElementById(id);

// --- view options ---------------------------------------------------------------------------------------------
// present and palette are also remembered in this browser (localStorage); a link's value wins.
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

export function rememberViewOptions(options) {
  try {
    localStorage.setItem(VIEW_STORE, JSON.stringify(options));
  } catch { /* storage refused (private mode): the link still carries them */ }
}

// --- the link of one page -----------------------------------------------------------------------------------------
export class Link {
  constructor(app) {
    this.app = app;
    this.last = 0; // when the hash was last written
    this.timer = null;
    this.cache = { data: { key: null, value: null }, curve: { key: null, value: null } };
    this.notes = { data: "", curve: "" }; // what the current hash leaves out
    this.written = null; // the hash this page wrote last (a hashchange to another one is a link opened)
    const watched = new Set([...CONTROLS, ...CHECKS].map(([, id]) => id));
    document.addEventListener("change", (e) => { if (watched.has(e.target.id)) this.schedule(); });
    window.addEventListener("hashchange", () => {
      if (location.hash !== this.written) this.open().catch((err) => app.say(`The link could not be opened: ${err.message}`, "error"));
    });
  }

  // Write the hash soon: at once if the last write is THROTTLE ms old, else when it will be.
  schedule() {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.last + THROTTLE - performance.now());
    this.timer = setTimeout(() => { this.timer = null; this.write(); }, wait);
  }

  // Write it now (on Stop, and before copying).
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    return this.write();
  }

  async write() {
    if (!this.app.view) return;
    this.last = performance.now();
    const seq = (this.seq = (this.seq ?? 0) + 1);
    const hash = await this.hash();
    if (seq !== this.seq) return; // a later write overtook this one
    this.written = hash;
    if (location.hash !== hash) history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
  }

  async hash() {
    const { app } = this;
    const { state } = app.view;
    const params = new URLSearchParams();
    params.set("tag", sessionStorage.getItem("session-tag") ?? "");
    for (const key of SETTINGS) params.set(key, state[key]);
    params.set("W", JSON.stringify(state.W));
    params.set("b", JSON.stringify(state.b));
    params.set("step", state.step);
    params.set("lowest", state.lowest_loss); // what a run's rise is measured from, and whether it was diverging
    if (state.diverging) params.set("diverging", "1");
    const curve = await this.curve(app.view);
    if (curve) params.set("curve", curve);
    // A generated preset is drawn again from its seed (exact only below 2^53, as JavaScript numbers are); other
    // data travel packed, with their preset's name if they have one.
    if (state.preset) params.set("preset", JSON.stringify(state.preset));
    if (!state.preset || state.preset.name === "original" || !Number.isSafeInteger(state.preset.seed)) {
      const data = await this.data(state);
      if (data) params.set("data", data);
      else params.set("omitted", state.n_points + (state.n_test ?? 0));
    }
    for (const [key, id] of CHECKS) if ($(id).checked) params.set(key, "1");
    for (const [key, id, initial] of CONTROLS) if ($(id).value && $(id).value !== initial) params.set(key, $(id).value);
    if (app.viewOptions.present) params.set("present", "1");
    if (app.viewOptions.palette !== VIEW_DEFAULTS.palette) params.set("palette", app.viewOptions.palette);
    return "#" + params.toString();
  }

  // The packed data, or null (and a note) when they are too many for a link.
  async data(state) {
    if (!state.X) return this.cache.data.value; // a summary (large data, running): the data have not changed
    const n = state.n_points + (state.n_test ?? 0);
    const data = { X: state.X, y: state.y };
    if (state.X_test?.length) Object.assign(data, { X_test: state.X_test, y_test: state.y_test });
    const key = n > DATA_MAX_POINTS ? null : JSON.stringify(data);
    if (key !== this.cache.data.key) this.cache.data = { key, value: key && (await pack(data)) };
    const fits = key !== null && this.cache.data.value.length <= DATA_MAX_CHARS;
    this.notes.data = fits ? "" : `The link leaves out the data: ${n} points are too many for a link (use Export to share them).`;
    return fits ? this.cache.data.value : null;
  }

  // The packed loss curve: its last steps, as many as fit (at least the current loss).
  async curve(view) {
    const { history, historyStart, state, testHistory } = view;
    const key = `${historyStart}:${history.length}:${history[history.length - 1]}:${state.segments.length}:${Boolean(testHistory)}`;
    if (key === this.cache.curve.key) return this.cache.curve.value;
    if (historyStart !== this.curveStart) [this.curveStart, this.curveFits] = [historyStart, CURVE_MAX_STEPS];
    let count = Math.min(history.length, this.curveFits); // start from what fitted last time: one pack, not several
    let value;
    for (;;) {
      const start = historyStart + history.length - count;
      const segments = state.segments.filter((s, i, all) => s.start > start || !all[i + 1] || all[i + 1].start > start)
        .map((s) => [s.start, s.optimizer]);
      const round = (v) => Number(v.toPrecision(7));
      const changes = (state.changes ?? []).filter((c) => c.step >= start);
      const test = testHistory && { test: testHistory.slice(-count).map((v) => (v === null ? null : round(v))) };
      value = await pack({ history: history.slice(-count).map(round), start, segments, changes, ...test });
      if (value.length <= CURVE_MAX_CHARS || count === 1) break;
      count = Math.max(1, Math.floor(count / 2));
    }
    if (count < Math.min(history.length, this.curveFits)) this.curveFits = count; // it had to shrink
    const first = historyStart + history.length - count;
    this.notes.curve = first > historyStart ? `The loss curve before step ${first} is not in the link (too long).` : "";
    this.cache.curve = { key, value };
    return value;
  }

  // "Copy link": the hash now, in the clipboard where allowed; returns what to tell the user.
  async copy() {
    await this.flush();
    const copied = await navigator.clipboard?.writeText(location.href).then(() => true, () => false);
    const where = copied ? "Link copied: it opens this view" : "The address bar holds a link to this view";
    return [`${where}.`, this.notes.data, this.notes.curve].filter(Boolean).join(" ");
  }

  // The session this tab shows from now on, with a new tag if it is another one.
  own(sid) {
    if (sessionStorage.getItem("session") === sid && sessionStorage.getItem("session-tag")) return;
    sessionStorage.setItem("session", sid);
    sessionStorage.setItem("session-tag", Array.from(crypto.getRandomValues(new Uint8Array(6)), (v) => v.toString(16).padStart(2, "0")).join(""));
  }

  // Start the page from the hash: this tab's live session if the hash describes it, else the view it holds.
  async open() {
    const { app } = this;
    app.player?.stop();
    const link = await parseLink(location.hash);
    const storedId = sessionStorage.getItem("session");
    const own = !link || !link.session || (link.tag && link.tag === sessionStorage.getItem("session-tag"));
    let state = own && storedId ? await sessions.get(storedId).catch(() => null) : null;
    const notes = [];
    if (!state && link) {
      const bad = link.invalid;
      if (bad.length) {
        notes.push(`The link's ${bad.join(", ")} ${bad.length > 1 ? "are" : "is"} not valid; starting from the defaults.`);
      } else {
        state = await recreate(link, notes).catch((err) => {
          notes.push(`The link could not be opened (${err.message}); starting from the defaults.`);
          return null;
        });
      }
    }
    app.use(state ?? (await sessions.create()));
    if (link) this.#applyView(link.view, notes);
    if (notes.length) app.say(notes.join(" "), notes.some((n) => /not valid|could not/.test(n)) ? "error" : "info", $("share-note"));
    this.schedule();
  }

  #applyView(view, notes) {
    const { app } = this;
    app.surface.fillChoices(app.view.state.W.length);
    const bad = [];
    for (const [key, id] of CONTROLS) {
      if (view[key] === undefined) continue;
      const el = $(id);
      if (el.tagName === "SELECT" ? [...el.options].some((o) => o.value === view[key]) : Number.isFinite(Number(view[key]))) el.value = view[key];
      else bad.push(key);
    }
    for (const [key, id] of CHECKS) if (view[key] !== undefined) $(id).checked = view[key] === "1";
    if (bad.length) notes.push(`The link's ${bad.join(", ")} ${bad.length > 1 ? "are" : "is"} not valid (ignored).`);
    $("surface-on").dispatchEvent(new Event("change", { bubbles: true })); // draws (or clears) the surface
    app.scheduleRender();
  }
}

