// The image page's wiring: one experiment id and its view; controls call act(), answers are drawn once per
// animation frame. State in imagestate.js, curves in curves.js, pictures in pictures.js; no mathematics here.

import { ApiError, SerialQueue } from "./api.js";
import { experiments } from "./experiments.js";
import { RenderScheduler } from "./frames.js";
import { Curves } from "./curves.js";
import { confusionFigure } from "./imageplots.js";
import { ImageGrid, TemplateGrid, drawGradCheck } from "./pictures.js";
import { Player } from "./player.js";
import { ExperimentView, OPTIMIZERS, Results, lastStepOptimizer, pct } from "./imagestate.js";
import { OPTIMIZER_NAMES } from "./plots.js";

const $ = (id) => document.getElementById(id);
const setText = (el, text) => {
  if (el.textContent !== text) el.textContent = text; // an unchanged text costs no layout
};
const SHOWN = 24; // test images in the grid
const REFRESH_MS = 2000; // confusion matrix and test images while running: far less often than the templates
const AUTO_SECONDS = 0.03; // "auto" steps per update: about this much server time
const FIELDS = { step_size: "step-size", reg: "reg", batch_size: "batch-size", search_scale: "search-scale" };

class ImagesApp {
  constructor() {
    this.queue = new SerialQueue();
    this.templates = new TemplateGrid($("templates"));
    this.grid = new ImageGrid($("image-grid"));
    this.curves = new Curves({
      lossAxes: $("loss-axes"), loss: $("loss-curve"), accuracyAxes: $("accuracy-axes"), accuracy: $("accuracy-curve"),
      legend: $("loss-legend"), logY: $("log-y"),
    });
    this.results = new Results(); // what each optimizer reached here, for the lecture's table
    this.frame = new RenderScheduler(() => this.render());
    this.refreshing = false;
    this.player = new Player({
      step: (n) => this.act((id) => experiments.step(id, n, true)),
      draw: () => this.frame.flush(),
      onChange: (running) => {
        $("btn-run").disabled = running;
        $("btn-stop").disabled = !running;
        if (running) this.timer = setInterval(() => this.refreshResults(), REFRESH_MS);
        else { clearInterval(this.timer); this.refreshResults(); }
      },
    });
    this.player.stepsPerFrame = () => {
      const choice = $("steps-per-frame").value;
      const per = this.view?.state.step_seconds;
      return choice !== "auto" ? Number(choice) : per ? Math.min(500, Math.max(1, Math.round(AUTO_SECONDS / per))) : 1;
    };
  }

  get frames() {
    return this.templates.drawn;
  }

  // --- lifecycle ---------------------------------------------------------------------------------------------
  async start() {
    await this.listDatasets();
    const stored = sessionStorage.getItem("experiment");
    const state = (stored && (await experiments.get(stored).catch(() => null))) || (await experiments.create({ dataset: "digits" }));
    await this.use(state);
  }

  async use(state) {
    this.id = state.id;
    this.results.clear();
    sessionStorage.setItem("experiment", state.id);
    this.view = new ExperimentView(state);
    this.view.state.templates = await experiments.templates(state.id);
    $("dataset").value = state.dataset;
    if (!this.datasets[state.dataset]?.n_train) await this.listDatasets(); // its sizes are known now
    this.showHint();
    this.frame.schedule();
    await this.refreshResults();
  }

  // The picker: unavailable datasets disabled, with their hint below; sizes once a dataset is loaded.
  async listDatasets() {
    const datasets = await experiments.datasets();
    this.datasets = Object.fromEntries(datasets.map((d) => [d.name, d]));
    const chosen = $("dataset").value;
    $("dataset").replaceChildren(...datasets.map((d) => {
      const option = new Option(d.available ? d.name : `${d.name} (unavailable)`, d.name);
      option.disabled = !d.available;
      return option;
    }));
    if (chosen) $("dataset").value = chosen;
    this.showHint();
  }

  showHint() {
    const unavailable = Object.values(this.datasets ?? {}).filter((d) => !d.available);
    const chosen = this.datasets?.[$("dataset").value];
    const sizes = chosen?.n_train ? `${chosen.n_train.toLocaleString("en")} training, ${chosen.n_val} validation, ${chosen.n_test} test images. ` : "";
    $("dataset-hint").textContent = sizes + unavailable.map((d) => `${d.name} is unavailable: ${d.hint}.`).join(" ");
  }

  say(text, kind = "info") {
    $("status").textContent = text;
    $("status").className = `status ${kind}`;
  }

  // A state-changing request in the serial queue; its answer is merged and drawn. Errors are shown, not thrown.
  act(call, key = null, { replace = false } = {}) {
    return this.queue.push(async () => {
      const id = this.id;
      try {
        const state = await call(id);
        if (id !== this.id) return null;
        if (replace) {
          this.view = new ExperimentView(state);
          this.view.state.templates = await experiments.templates(id);
        } else if (!this.view.merge(state)) {
          this.view = new ExperimentView(await experiments.get(id));
          this.view.state.templates = await experiments.templates(id);
        }
        this.clearFieldError();
        if (state.diverged) this.say("Diverged: lower the step size or reset.", "error");
        else if ($("status").classList.contains("error")) this.say("");
        this.results.noteStep(state);
        this.frame.schedule();
        return state;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          this.player.stop();
          await this.use(await experiments.create({ dataset: this.view?.state.dataset ?? "digits" }));
          this.say("The experiment had expired (or the server restarted), so a new one was started.", "info");
        } else this.showError(err);
        return null;
      }
    }, key);
  }

  showError(err) {
    const field = /^(\w+): /.exec(err.message)?.[1]; // the server's messages start with the field's name
    const input = field && document.querySelector(`[data-field="${field}"]`);
    if (input) {
      if (input.tagName === "SELECT") input.value = this.view.state[field]; // back to what is really used
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "field-error");
      $("field-error").textContent = err.message;
      input.focus();
      this.frame.schedule(); // put the control back to the experiment's value
    } else this.say(err.message, "error");
  }

  clearFieldError() {
    $("field-error").textContent = "";
    for (const el of document.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      if (el.getAttribute("aria-describedby") === "field-error") el.removeAttribute("aria-describedby");
    }
  }

  // Confusion matrix, test accuracy and test images: read-only requests, one round at a time.
  async refreshResults() {
    if (this.refreshing || !this.id) return;
    this.refreshing = true;
    try {
      const id = this.id;
      const evaluation = await experiments.evaluate(id, "test");
      const indices = $("mistakes-only").checked ? evaluation.mistakes.map((m) => m.index) : [...Array(SHOWN).keys()];
      const batch = indices.length ? await experiments.images(id, "test", indices.slice(0, SHOWN)) : null;
      if (id !== this.id) return;
      this.evaluation = evaluation;
      this.batch = batch;
      this.results.noteAccuracy(lastStepOptimizer(this.view.state), evaluation.accuracy, this.view.state);
      this.drawResults();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) this.say(err.message, "error");
    } finally {
      this.refreshing = false;
    }
  }

  // --- drawing -------------------------------------------------------------------------------------------------
  // Each part only when what it shows changed: a step answer brings new templates, a settings change does not.
  render() {
    const { state } = this.view;
    if (state.templates && state.templates !== this.templates.shown) this.templates.draw(state.templates, state.classes);
    this.curves.drawSoon(this.view);
    setText($("step-count"), String(state.step));
    setText($("loss"), state.loss.toPrecision(4) + (state.optimizer === "sgd" ? " (batch)" : ""));
    setText($("train-accuracy"), pct(state.train_accuracy));
    setText($("val-accuracy"), pct(state.val_accuracy));
    this.syncControls(state);
    this.drawLecture();
  }

  // Late in a run most refreshes change nothing: the heatmap (Plotly's costliest redraw here) and the grid are
  // redrawn only when their numbers changed.
  drawResults() {
    const { classes } = this.view.state;
    setText($("test-accuracy"), pct(this.evaluation.accuracy));
    const key = JSON.stringify([this.evaluation.confusion, classes]);
    if (key !== this.confusionKey) {
      this.confusionKey = key;
      const fig = confusionFigure(this.evaluation, classes);
      Plotly.react($("confusion"), fig.data, fig.layout, { displayModeBar: false, responsive: true });
      $("confusion").setAttribute("aria-label", `Confusion matrix of the ${this.evaluation.n} test images: ` +
        `${this.evaluation.mistake_count} classified wrongly`);
    }
    this.grid.draw(this.batch, classes);
    this.drawLecture();
  }

  drawLecture() {
    for (const opt of OPTIMIZERS) setText($(`ours-${opt}`), this.results.text(opt, this.view.state.dataset) ?? "run it to see");
  }

  syncControls(state) {
    const sync = (el, value) => {
      // a rejected number stays in its box beside the message; a select shows what the experiment really uses
      const keep = el.tagName === "INPUT" && el.getAttribute("aria-invalid") === "true";
      if (document.activeElement !== el && !keep && String(el.value) !== String(value)) el.value = value;
    };
    sync($("loss-type"), state.loss_type);
    sync($("optimizer"), state.optimizer);
    for (const [field, id] of Object.entries(FIELDS)) sync($(id), state[field]);
    const by = lastStepOptimizer(state);
    if (!by) {
      setText($("cost"), `Cost of the last step: —  (P = ${state.parameters.toLocaleString("en")} parameters)`);
    } else {
      const ms = 1000 * state.step_seconds;
      const other = by === state.optimizer ? "" : ` (${OPTIMIZER_NAMES[by]})`; // not the one chosen now
      setText($("cost"), `Cost of the last step${other}: ${state.loss_evals.toLocaleString("en")} loss evaluation${state.loss_evals > 1 ? "s" : ""}, ` +
        `${ms.toFixed(ms < 10 ? 2 : 0)} ms (P = ${state.parameters.toLocaleString("en")} parameters)`);
    }
  }

  // --- controls ------------------------------------------------------------------------------------------------
  wire() {
    const patch = (key, value) => this.act((id) => experiments.update(id, { [key]: value }), key);
    $("loss-type").addEventListener("change", (e) => patch("loss_type", e.target.value));
    $("optimizer").addEventListener("change", (e) => patch("optimizer", e.target.value));
    for (const [field, id] of Object.entries(FIELDS)) {
      $(id).addEventListener("change", (e) => {
        const v = Number(e.target.value);
        if (e.target.value !== "" && Number.isFinite(v)) patch(field, field === "batch_size" ? Math.round(v) : v);
        else this.showError(new Error(`${field}: must be a finite number`)); // 1e400, or emptied by the browser
      });
    }
    $("dataset").addEventListener("change", (e) => {
      this.player.stop();
      this.showHint();
      this.queue.push(async () => {
        try {
          await this.use(await experiments.create({ dataset: e.target.value }));
        } catch (err) {
          // the experiment is still the one it was: the picker says so, and shows why the other is unavailable
          await this.listDatasets().catch(() => null);
          $("dataset").value = this.view.state.dataset;
          this.showHint();
          this.showError(err);
        }
      });
    });
    $("btn-step").addEventListener("click", () => this.act((id) => experiments.step(id, 1, true)).then(() => this.refreshResults()));
    $("btn-run").addEventListener("click", () => this.player.start());
    $("btn-stop").addEventListener("click", () => this.player.stop());
    $("btn-reset").addEventListener("click", () => {
      this.player.stop();
      this.results.clear();
      this.act((id) => experiments.reset(id), null, { replace: true }).then(() => this.refreshResults());
    });
    $("log-y").addEventListener("change", () => this.frame.schedule());
    $("mistakes-only").addEventListener("change", () => this.refreshResults());
    $("btn-gradcheck").addEventListener("click", async () => {
      $("btn-gradcheck").disabled = true;
      $("gradcheck-verdict").textContent = "Checking…";
      try {
        drawGradCheck($("gradcheck-table"), $("gradcheck-verdict"), await experiments.gradcheck(this.id, 20));
      } catch (err) {
        $("gradcheck-verdict").textContent = err.message;
      } finally {
        $("btn-gradcheck").disabled = false;
      }
    });
  }
}

const app = new ImagesApp();
window.app = app; // for tests and the console
app.wire();
app.start().catch((err) => app.say(`Could not start: ${err.message}`, "error"));
