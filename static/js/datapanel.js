// The Data panel: a preset with its size, the share held out for testing, the preset's noise, Load data and
// Regenerate; and the test accuracy beside the training accuracy. Moving a slider redraws the current preset
// from its own seed (the same points, a new split or spread); Regenerate draws new points (no seed).

import { sessions } from "./api.js";
import { setText } from "./controls.js";
import { formatNumber, spoken } from "./format.js";

// Each generated preset's spread: [default, largest] (as app/core/datasets.NOISE; a test compares them).
export const NOISE = { blobs: [0.15, 0.5], moons: [0.05, 0.3], circles: [0.03, 0.2] };
const $ = (id) => document.getElementById(id);
const percent = (f) => `${Math.round(100 * f)} %`;

export class DataPanel {
  constructor(app) {
    this.app = app;
    this.where = $("preset-msg");
    this.preset = $("preset");
    this.fraction = $("test-fraction");
    this.noise = $("noise");
    this.shownPreset = "";
    this.preset.addEventListener("change", () => this.#presetChosen());
    this.fraction.addEventListener("input", () => this.#label());
    this.noise.addEventListener("input", () => this.#label());
    for (const slider of [this.fraction, this.noise]) slider.addEventListener("change", () => this.#redraw(true));
    $("btn-preset").addEventListener("click", () => this.#load());
    $("btn-regenerate").addEventListener("click", () => this.#redraw(false));
    this.#presetChosen();
  }

  // The preset's choices: the noise slider's range and default; sliders off where they do not apply.
  #presetChosen(noise = null) {
    const name = this.preset.value;
    const range = NOISE[name];
    this.fraction.disabled = name === "original";
    this.noise.disabled = !range;
    if (range) {
      this.noise.max = String(range[1]);
      this.noise.value = String(noise ?? range[0]);
    }
    this.#label();
  }

  #label() {
    const f = Number(this.fraction.value);
    const fractionText = this.fraction.disabled ? "none (the original points are all for training)" : `${percent(f)} held out for testing`;
    setText($("test-fraction-value"), this.fraction.disabled ? "—" : percent(f));
    this.fraction.setAttribute("aria-valuetext", fractionText);
    const noiseText = this.noise.disabled ? "none for this preset" : spoken(Number(this.noise.value));
    setText($("noise-value"), this.noise.disabled ? "—" : noiseText);
    this.noise.setAttribute("aria-valuetext", noiseText);
  }

  // The sliders' part of a reset's body, for the preset `name`.
  #drawing(name) {
    const body = {};
    if (name !== "original") body.test_fraction = Number(this.fraction.value);
    if (NOISE[name]) body.noise = Number(this.noise.value);
    return body;
  }

  #send(body) {
    this.app.act((id) => sessions.reset(id, body), "data-drawing", { replace: true, where: this.where });
  }

  #load() {
    const data = this.preset.value;
    const body = { params: "default", data, n: Number($("preset-n").value), classes: Number($("preset-classes").value) };
    if (data === "original") { delete body.n; delete body.classes; }
    this.#send({ ...body, ...this.#drawing(data) });
  }

  // The data shown, drawn again: from its own seed (a slider moved: same points, new split or spread) or
  // from a new one (Regenerate). Data edited by hand, or the original points, have no preset to redraw.
  #redraw(sameSeed) {
    const preset = this.app.view?.state.preset;
    if (!preset || preset.name === "original" || preset.name !== this.preset.value) {
      if (!sameSeed) this.#load();
      return;
    }
    const body = { params: "default", data: preset.name, n: preset.n, classes: preset.classes, ...this.#drawing(preset.name) };
    if (sameSeed) body.seed = preset.seed;
    this.#send(body);
  }

  // Follow the session: the panel shows how its data were drawn; the test accuracy beside the training one.
  update(state) {
    const key = JSON.stringify(state.preset);
    if (key !== this.shownPreset) {
      this.shownPreset = key;
      const p = state.preset;
      if (p && document.activeElement !== this.fraction && document.activeElement !== this.noise) {
        this.preset.value = p.name;
        if (p.n !== null) $("preset-n").value = String(p.n);
        if (p.classes !== null) $("preset-classes").value = String(p.classes);
        this.fraction.value = String(p.test_fraction);
        this.#presetChosen(p.noise);
      }
    }
    const tested = state.n_test > 0 && state.test_accuracy !== null;
    setText($("test-accuracy"), tested ? `${formatNumber(100 * state.test_accuracy, 0)} %` : "—");
    const title = tested ? `on ${state.n_test} held-out points` : "no test set: move the Test data slider";
    if ($("test-accuracy").title !== title) $("test-accuracy").title = title;
  }
}
