// Wiring: one App holds the session id and its View; controls call App.act, every answer is rendered once per
// animation frame. Views live in their own modules; nothing here computes mathematics.

import { ApiError, SerialQueue, sessions } from "./api.js";
import { ParamPanel, regFromSlider, setText, sliderFromReg, sliderFromStepSize, stepSizeFromSlider } from "./controls.js";
import { PointEditor, buildClassPicker, selectedClass } from "./editor.js";
import { GradCheckPanel, SurfacePanel } from "./lab.js";
import { OPTIMIZER_COLORS, OPTIMIZER_NAMES, lossAxesFigure, lossFigure, planeAxesFigure, regionsFigure } from "./plots.js";
import { Player } from "./player.js";
import { View, parseHash, shareLink } from "./state.js";
import { DataTable } from "./table.js";

const $ = (id) => document.getElementById(id);
const LARGE_DATA = 2000; // points beyond which the repeated update asks for summaries only
const OPTIMIZER_INFO = {
  gd: "Full-batch gradient descent with the analytic gradient: one loss-and-gradient evaluation per step.",
  sgd: "Each step uses the gradient of a random minibatch (circled on the plot).",
  numerical: "The gradient by centered differences: two loss evaluations per parameter, every step.",
  random_search: "Each step draws random parameters and keeps them only if the loss goes down.",
};

class App {
  constructor() {
    this.queue = new SerialQueue();
    this.frames = 0; // drawn so far (the animation benchmark counts them)
    this.renderPending = false;
    this.regionsDiv = $("regions");
    this.curveDiv = $("loss-curve");
    this.panel = new ParamPanel($("param-grid"), (which, k, d, delta) => this.nudge(which, k, d, delta));
    this.table = new DataTable($("data-table"), $("table-note"));
    this.gradcheck = new GradCheckPanel({ table: $("gradcheck-table"), verdict: $("gradcheck-verdict") });
    this.surface = new SurfacePanel({
      p1: $("surface-p1"), p2: $("surface-p2"), span: $("surface-span"), toggle: $("surface-on"), direction: $("slice-direction"),
      surfaceDiv: $("surface"), sliceDiv: $("slice"),
    });
    this.player = new Player({
      // Large data: frames carry no per-example arrays; the table catches up when the update stops.
      step: (n) => this.act((id) => sessions.step(id, n, this.view.state.n_points > LARGE_DATA ? "summary" : "full")),
      draw: () => this.flush(),
      onChange: (running) => {
        $("btn-start").disabled = running;
        $("btn-stop").disabled = !running;
        if (!running && this.view.state.n_points > LARGE_DATA) this.act((id) => sessions.get(id));
      },
    });
    this.editor = new PointEditor(this.regionsDiv, {
      getState: () => this.view.state,
      getClass: selectedClass,
      deleteMode: () => $("delete-mode").checked,
      preview: (X, y) => this.drawRegions({ ...this.view.state, X, y }),
      commit: (X, y) => this.act((id) => sessions.update(id, { X, y }), "data"),
    });
  }

  // --- session lifecycle -----------------------------------------------------------------------------------
  async start() {
    const shared = parseHash(location.hash);
    let state = null;
    if (shared && !shared.invalid) {
      state = await sessions.create(shared).catch((err) => this.say(`The shared link could not be loaded: ${err.message}`, "error"));
    } else if (shared?.invalid) {
      this.say(`The shared link's ${shared.invalid} is not valid; starting from the defaults.`, "error");
    }
    const stored = sessionStorage.getItem("session");
    if (!state && stored && !shared) state = await sessions.get(stored).catch(() => null);
    state = state ?? (await sessions.create());
    this.use(state);
  }

  use(state) {
    this.sid = state.id;
    sessionStorage.setItem("session", state.id);
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

  say(text, kind = "info") {
    const el = $("status");
    el.textContent = text;
    el.className = `status ${kind}`;
  }

  // Run a state-changing request in the serial queue and render its answer; errors are shown, not thrown.
  act(call, key = null, { replace = false } = {}) {
    return this.queue.push(async () => {
      const sid = this.sid;
      try {
        const state = await call(sid);
        if (sid !== this.sid) return null;
        if (replace) this.view.replace(state);
        else if (!this.view.merge(state)) this.view.replace(await sessions.get(sid));
        if (!state.diverged && $("status").classList.contains("error")) this.say("");
        this.scheduleRender();
        return state;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) await this.recover();
        else if (err instanceof ApiError && err.status === 412) await this.reload();
        else this.say(err.message, "error");
        return null;
      }
    }, key);
  }

  nudge(which, k, d, delta) {
    if (this.queue.jobs.length > 2) return; // a held ▲/▼ must not pile up requests behind a slow answer
    this.act((id) => {
      const { W, b } = this.view.state;
      const body = which === "W"
        ? { W: W.map((row, i) => (i === k ? row.map((v, j) => (j === d ? round(v + delta) : v)) : row)) }
        : { b: b.map((v, i) => (i === k ? round(v + delta) : v)) };
      return sessions.update(id, body);
    });
  }

  // --- rendering -----------------------------------------------------------------------------------------------
  // Draw at the next animation frame, unless something draws sooner (flush).
  scheduleRender() {
    this.dirty = true;
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this.flush();
    });
  }

  flush() {
    if (!this.dirty) return;
    this.dirty = false;
    this.render();
  }

  drawRegions(state) {
    this.frames++;
    if (!this.regionsDiv.data) {
      const axes = planeAxesFigure();
      Plotly.react($("regions-axes"), axes.data, axes.layout, { staticPlot: true, responsive: true });
    }
    const fig = regionsFigure(state);
    Plotly.react(this.regionsDiv, fig.data, fig.layout, { staticPlot: true, responsive: true });
  }

  drawLossCurve() {
    const curve = lossFigure(this.view, $("log-y").checked);
    const key = JSON.stringify(curve.ranges);
    if (key !== this.lossRanges) { // the axes layer changes only when the ranges step up
      this.lossRanges = key;
      const axes = lossAxesFigure(curve.ranges);
      Plotly.react($("loss-axes"), axes.data, axes.layout, { staticPlot: true, responsive: true });
    }
    Plotly.react(this.curveDiv, curve.data, curve.layout, { displayModeBar: false, responsive: true });
    const names = [...new Set(this.view.state.segments.map((seg) => seg.optimizer))];
    const legend = $("loss-legend");
    if (legend.dataset.names !== names.join()) {
      legend.dataset.names = names.join();
      legend.replaceChildren(...names.map((name) => {
        const li = document.createElement("li");
        li.textContent = OPTIMIZER_NAMES[name];
        li.style.setProperty("--swatch", OPTIMIZER_COLORS[name]);
        return li;
      }));
    }
  }

  render() {
    const { state } = this.view;
    this.drawRegions(state);
    this.panel.update(state);
    this.table.update(state);
    setText($("data-loss"), state.data_loss.toFixed(2));
    setText($("reg-loss"), state.reg_loss.toFixed(2));
    setText($("total-loss"), state.loss.toFixed(2));
    setText($("accuracy"), `${(100 * state.accuracy).toFixed(0)} %`);
    setText($("step-count"), String(state.step));
    this.drawLossCurve();
    this.syncControls(state);
    if (state.diverged) this.say("Diverged — lower the step size or reset.", "error");
    this.surface.fillChoices(state.W.length);
    this.surface.refresh(this.sid, this.view).catch((err) => this.say(err.message, "error"));
  }

  syncControls(state) {
    const sync = (el, value) => { if (document.activeElement !== el && String(el.value) !== String(value)) el.value = value; };
    sync($("step-size"), sliderFromStepSize(state.step_size));
    sync($("reg"), sliderFromReg(state.reg));
    setText($("step-size-value"), state.step_size.toFixed(5));
    setText($("reg-value"), state.reg.toFixed(5));
    sync($("loss-type"), state.loss_type);
    sync($("optimizer"), state.optimizer);
    sync($("batch-size"), state.batch_size);
    sync($("h"), state.h);
    sync($("search-scale"), state.search_scale);
    document.querySelector(`input[name=reg-gradient][value=${state.reg_gradient}]`).checked = true;
    for (const label of document.querySelectorAll(".optimizer-settings label")) {
      label.classList.toggle("shown", label.dataset.for === state.optimizer);
    }
    let info = OPTIMIZER_INFO[state.optimizer];
    if (state.optimizer === "numerical") info += ` Last step: ${state.loss_evals} loss evaluations.`;
    if (state.optimizer === "random_search") info += ` Tries: ${state.search.tries}, kept: ${state.search.accepted}, best loss ${state.search.best_loss.toFixed(4)}.`;
    setText($("optimizer-info"), info);
    buildClassPicker($("class-picker"), state.W.length);
  }

  // --- controls ------------------------------------------------------------------------------------------------
  wire() {
    const patch = (key, value) => this.act((id) => sessions.update(id, { [key]: value }), key);
    $("step-size").addEventListener("input", (e) => {
      const v = stepSizeFromSlider(e.target.value);
      setText($("step-size-value"), v.toFixed(5));
      patch("step_size", v);
    });
    $("reg").addEventListener("input", (e) => {
      const v = regFromSlider(e.target.value);
      setText($("reg-value"), v.toFixed(5));
      patch("reg", v);
    });
    $("loss-type").addEventListener("change", (e) => patch("loss_type", e.target.value));
    $("optimizer").addEventListener("change", (e) => patch("optimizer", e.target.value));
    for (const radio of document.querySelectorAll("input[name=reg-gradient]")) {
      radio.addEventListener("change", (e) => patch("reg_gradient", e.target.value));
    }
    const numberField = (id, key, integer) => $(id).addEventListener("change", (e) => {
      const v = Number(e.target.value);
      if (e.target.value !== "" && Number.isFinite(v)) patch(key, integer ? Math.round(v) : v);
    });
    numberField("batch-size", "batch_size", true);
    numberField("h", "h", false);
    numberField("search-scale", "search_scale", false);
    $("btn-step").addEventListener("click", () => this.act((id) => sessions.step(id, 1)));
    $("btn-start").addEventListener("click", () => this.player.start());
    $("btn-stop").addEventListener("click", () => this.player.stop());
    $("btn-random").addEventListener("click", () => this.act((id) => sessions.reset(id, { params: "random" }), null, { replace: true }));
    $("btn-reset").addEventListener("click", () => this.act((id) => sessions.reset(id, { params: "default" }), null, { replace: true }));
    this.player.stepsPerFrame = () => {
      const choice = $("steps-per-frame").value;
      // auto: about 0.1 of "step size × steps" per frame, so that a small step size still moves visibly
      return choice === "auto" ? Math.min(1000, Math.max(1, Math.round(0.1 / this.view.state.step_size))) : Number(choice);
    };
    $("log-y").addEventListener("change", () => this.scheduleRender());
    $("btn-gradcheck").addEventListener("click", () => this.gradcheck.run(this.sid, this.view.state).catch((err) => this.say(err.message, "error")));
    for (const id of ["surface-p1", "surface-p2", "surface-span", "surface-on", "slice-direction"]) {
      $(id).addEventListener("change", () => {
        $("surface").parentElement.classList.toggle("surface-on", this.surface.shown);
        if (this.surface.shown) this.surface.refresh(this.sid, this.view).catch((err) => this.say(err.message, "error"));
        else this.surface.clear();
      });
    }
    $("btn-preset").addEventListener("click", () => {
      const data = $("preset").value;
      const body = { params: "default", data, n: Number($("preset-n").value), classes: Number($("preset-classes").value) };
      if (data === "original") { delete body.n; delete body.classes; }
      this.act((id) => sessions.reset(id, body), null, { replace: true });
    });
    $("btn-link").addEventListener("click", () => shareLink(this.view.state, $("share-note")));
    $("import-file").addEventListener("change", (e) => this.importFile(e.target.files[0]));
  }

  async importFile(file) {
    if (!file) return;
    try {
      this.player.stop();
      this.use(await sessions.import(JSON.parse(await file.text())));
      setText($("share-note"), `Imported ${file.name}.`);
    } catch (err) {
      this.say(`Import failed: ${err.message}`, "error");
    }
  }
}

const round = (v) => Math.round(v * 1e10) / 1e10;

const app = new App();
window.app = app; // for tests and the console
app.wire();
app.start().catch((err) => app.say(`Could not start: ${err.message}`, "error"));
