// Wiring: one App holds the session id and its View; controls call App.act, every answer is rendered once per
// animation frame. Views live in their own modules; nothing here computes mathematics.

import { ApiError, SerialQueue, sessions } from "./api.js";
import { ParamPanel, setText } from "./controls.js";
import { DataPanel } from "./datapanel.js";
import { DivergenceCoach } from "./divergence.js";
import { PointEditor, buildClassPicker, selectedClass } from "./editor.js";
import { formatNumber } from "./format.js";
import { RenderScheduler } from "./frames.js";
import { StaleMark } from "./gradstale.js";
import { GradCheckPanel, SurfacePanel } from "./lab.js";
import { Link, readViewOptions, rememberViewOptions } from "./link.js";
import { LossCurveView } from "./lossview.js";
import { Messages } from "./messages.js";
import { palette } from "./palette.js";
import { Plane } from "./plane.js";
import { Player } from "./player.js";
import { View } from "./state.js";
import { DataTable } from "./table.js";
import { wire } from "./wiring.js";

const $ = (id) => document.getElementById(id);
const LARGE_DATA = 2000; // points beyond which the repeated update asks for summaries only
const FONT = { normal: 14, present: 18 }; // px of the plots' labels
const OPTIMIZER_INFO = {
  gd: "Full-batch gradient descent with the analytic gradient: one loss-and-gradient evaluation per step.",
  sgd: "Each step uses the gradient of a random minibatch (circled on the plot).",
  numerical: "The gradient by centered differences: two loss evaluations per parameter, every step.",
  random_search: "Each step draws random parameters and keeps them only if the loss goes down.",
};

class App {
  constructor() {
    this.queue = new SerialQueue();
    this.pending = new Map(); // setting → changes of it not yet answered (see act)
    this.frame = new RenderScheduler(() => this.render());
    this.regionsDiv = $("regions");
    this.plane = new Plane({ axes: $("regions-axes"), regions: this.regionsDiv, points: $("regions-points"), canvas: $("regions-live") });
    this.link = new Link(this);
    this.curveDiv = $("loss-curve");
    this.messages = new Messages($("toast"));
    this.setViewOptions(readViewOptions(), false);
    this.panel = new ParamPanel($("param-grid"), {
      onNudge: (which, k, d, delta) => this.nudge(which, k, d, delta),
      onSet: (which, k, d, value) => this.act((id) => sessions.update(id, this.paramsWith(which, k, d, () => value)), null, { where: $("params-msg") }),
      onError: (text) => (text ? this.say(text, "error", $("params-msg")) : this.messages.clear($("params-msg"))),
    });
    this.table = new DataTable($("data-table"), $("table-note"));
    this.gradcheck = new GradCheckPanel({ table: $("gradcheck-table"), verdict: $("gradcheck-verdict") });
    this.gradStale = new StaleMark($("gradcheck-panel"), $("gradcheck-stale"));
    this.coach = new DivergenceCoach($("run-msg"), this);
    this.dataPanel = new DataPanel(this);
    this.lossView = new LossCurveView({ axesDiv: $("loss-axes"), curveDiv: this.curveDiv, note: $("curve-note"), legend: $("loss-legend") });
    this.surface = new SurfacePanel({
      p1: $("surface-p1"), p2: $("surface-p2"), span: $("surface-span"), toggle: $("surface-on"), direction: $("slice-direction"),
      surfaceDiv: $("surface"), sliceDiv: $("slice"), running: () => this.player?.running,
      note: (text) => (text ? this.say(text, "info", $("surface-msg")) : this.messages.clear($("surface-msg"))),
    });
    this.player = new Player({
      // Large data: frames carry no per-example arrays; the table catches up when the update stops.
      step: (n) => this.act((id) => sessions.step(id, n, this.view.state.n_points > LARGE_DATA ? "summary" : "full"), null, { where: $("run-msg") }),
      draw: () => this.flush(),
      onChange: (running) => {
        // Focus follows the button that can act next, so that Enter on Start and then Enter stops it.
        const [from, to] = running ? [$("btn-start"), $("btn-stop")] : [$("btn-stop"), $("btn-start")];
        const focused = document.activeElement === from;
        to.disabled = false;
        if (focused) to.focus();
        from.disabled = true;
        if (!running) this.link.flush();
        if (!running && this.view.state.n_points > LARGE_DATA) this.act((id) => sessions.get(id));
      },
    });
    this.editor = new PointEditor(this.regionsDiv, {
      getState: () => this.view.state,
      getClass: selectedClass,
      deleteMode: () => $("delete-mode").checked,
      preview: (X, y) => this.drawRegions({ ...this.view.state, X, y }),
      commit: (X, y) => this.act((id) => sessions.update(id, { X, y }), "data", { where: $("plane-msg") }),
      refuse: (text) => this.say(text, "info", $("plane-msg")),
      info: $("point-info"),
    });
  }

  // --- view options (presentation mode, palette) ------------------------------------------------------------
  setViewOptions(options, remember = true) {
    this.viewOptions = options;
    this.colors = palette(options.palette);
    this.style = { colors: this.colors, font: options.present ? FONT.present : FONT.normal };
    document.documentElement.classList.toggle("present", options.present);
    $("present").checked = options.present;
    $("original-colors").checked = this.colors.name === "original";
    if (remember) {
      rememberViewOptions(options);
      this.link.flush();
    }
    if (!this.view) return;
    this.plane.restyle(); // redraw the axes layers in the new size
    this.frame.now();
    for (const div of [$("regions-axes"), this.regionsDiv, $("loss-axes"), this.curveDiv]) if (div.data) Plotly.Plots.resize(div);
  }

  // --- session lifecycle -----------------------------------------------------------------------------------
  // From the link in the address bar: this tab's live session if it describes it, else the view it holds.
  start() {
    return this.link.open();
  }

  use(state) {
    this.sid = state.id;
    this.link.own(state.id);
    this.view = new View(state);
    $("export-link").href = sessions.exportUrl(state.id);
    this.scheduleRender();
  }

  async recover() {
    this.player.stop();
    this.use(await sessions.create());
    this.say("Your session had expired (or the server restarted), so a new one was started.", "info");
  }

  // A change was refused (412): the session had moved on, changed elsewhere or by a retry that was applied.
  async reload() {
    this.player.stop();
    const state = await sessions.get(this.sid).catch(() => null);
    if (!state) return this.recover();
    this.view.replace(state);
    this.scheduleRender();
    this.say("The session had changed (elsewhere, or by a retried request); showing its current state.", "info");
  }

  // A message beside `where` (an element), or in the toast when `where` is null or out of view.
  say(text, kind = "info", where = null) {
    this.messages.show(where, text, kind);
  }

  // Run a state-changing request in the serial queue and render its answer. Errors are shown at `where` (the
  // message place beside the control that asked), never thrown; a success clears that place.
  // A keyed change (a setting's name) counts as pending until its answer is in: the controls show the server's
  // value of that setting only when none is pending, so the echo of an earlier change never undoes a later one.
  act(call, key = null, { replace = false, where = null } = {}) {
    if (key) this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    const done = this.queue.push(async () => {
      const sid = this.sid;
      try {
        const state = await call(sid);
        if (sid !== this.sid) return null;
        if (replace) this.view.replace(state);
        else if (!this.view.merge(state)) this.view.replace(await sessions.get(sid));
        this.messages.clear(where);
        this.messages.clear(null);
        this.scheduleRender();
        return state;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) await this.recover();
        else if (err instanceof ApiError && err.status === 412) await this.reload();
        else this.say(err.message, "error", where);
        return null;
      }
    }, key);
    if (key) done.then(() => this.pending.set(key, this.pending.get(key) - 1));
    return done;
  }

  settled(key) {
    return !this.pending.get(key);
  }

  // W and b with one entry replaced by change(old value).
  paramsWith(which, k, d, change) {
    const { W, b } = this.view.state;
    return which === "W"
      ? { W: W.map((row, i) => (i === k ? row.map((v, j) => (j === d ? change(v) : v)) : row)) }
      : { b: b.map((v, i) => (i === k ? change(v) : v)) };
  }

  nudge(which, k, d, delta) {
    if (this.queue.jobs.length > 2) return; // a held ▲/▼ must not pile up requests behind a slow answer
    this.act((id) => sessions.update(id, this.paramsWith(which, k, d, (v) => round(v + delta))), null, { where: $("params-msg") });
  }

  // --- rendering -----------------------------------------------------------------------------------------------
  // Draw at the next animation frame, unless something draws sooner (flush).
  scheduleRender() {
    this.frame.schedule();
  }

  flush() {
    this.frame.flush();
  }

  // live: large data while running, whose points stay as they were until Stop (see plane.js)
  drawRegions(state, live = false) {
    this.plane.draw(state, this.style, live);
  }

  drawLossCurve() {
    this.lossView.draw(this.view, $("log-y").checked, this.style);
  }

  render() {
    const { state } = this.view;
    this.drawRegions(state, this.view.summary);
    this.panel.update(state, this.colors);
    this.table.update(state, this.colors, { paused: this.view.summary });
    setText($("data-loss"), formatNumber(state.data_loss));
    setText($("reg-loss"), formatNumber(state.reg_loss));
    setText($("total-loss"), formatNumber(state.loss));
    setText($("accuracy"), `${formatNumber(100 * state.accuracy, 0)} %`);
    setText($("step-count"), formatNumber(state.step, 0));
    this.drawLossCurve();
    this.syncControls(state);
    this.coach.update(state, this.sid);
    this.dataPanel.update(state);
    this.gradStale.follow(sessions.revision(this.sid));
    this.surface.fillChoices(state.W.length);
    this.surface.refresh(this.sid, this.view).catch((err) => this.say(err.message, "error", $("surface-msg")));
    this.link.schedule();
  }

  syncControls(state) {
    const sync = (el, key) => {
      const value = state[key];
      if (this.settled(key) && document.activeElement !== el && String(el.value) !== String(value)) el.value = value;
    };
    if (this.settled("step_size")) {
      this.stepSlider.show(state.step_size);
      this.stepEdit.show(state.step_size);
    }
    if (this.settled("reg")) {
      this.regSlider.show(state.reg);
      this.regEdit.show(state.reg);
    }
    sync($("loss-type"), "loss_type");
    sync($("optimizer"), "optimizer");
    sync($("batch-size"), "batch_size");
    sync($("h"), "h");
    sync($("search-scale"), "search_scale");
    if (this.settled("reg_gradient")) document.querySelector(`input[name=reg-gradient][value=${state.reg_gradient}]`).checked = true;
    for (const label of document.querySelectorAll(".optimizer-settings label")) {
      label.classList.toggle("shown", label.dataset.for === state.optimizer);
    }
    let info = OPTIMIZER_INFO[state.optimizer];
    if (state.optimizer === "numerical") info += ` Last step: ${state.loss_evals} loss evaluations.`;
    if (state.optimizer === "random_search") info += ` Tries: ${state.search.tries}, kept: ${state.search.accepted}, best loss ${formatNumber(state.search.best_loss, 4)}.`;
    setText($("optimizer-info"), info);
    buildClassPicker($("class-picker"), state.W.length, this.colors);
    this.explainClasses(state.W.length);
  }

  // The explanations speak of the classes there are.
  explainClasses(K) {
    if (this.explained === K) return;
    this.explained = K;
    for (const el of document.querySelectorAll(".k-count")) el.textContent = String(K);
    const scores = K <= 3 ? Array.from({ length: K }, (_, k) => `s[${k}]`).join(", ") : `s[0] … s[${K - 1}]`;
    for (const el of document.querySelectorAll(".k-scores")) el.textContent = `${K} scores ${scores}`;
  }
}

const round = (v) => Math.round(v * 1e10) / 1e10;

const app = new App();
window.app = app; // for tests and the console
wire(app);
app.start().catch((err) => app.say(`Could not start: ${err.message}`, "error"));
