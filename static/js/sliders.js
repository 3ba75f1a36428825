// The two log-scale sliders (step size and λ). The position is log10 of the value; λ's lowest notch is 0.
// A drag gives two significant digits; the arrow keys walk the round values 1, 2, 5 × 10^k (and λ = 0), so
// that one key press takes λ off 0 and back; screen readers hear the value itself (aria-valuetext), not the
// position.

import { spoken } from "./format.js";

const twoDigits = (v) => Number(v.toPrecision(2));
export const stepSizeFromSlider = (s) => twoDigits(10 ** Number(s));
export const sliderFromStepSize = (v) => Math.log10(v);
export const regFromSlider = (s) => (Number(s) <= -4.1 ? 0 : twoDigits(10 ** Math.max(Number(s), -4)));
export const sliderFromReg = (v) => (v <= 0 ? -4.2 : Math.log10(v));

// 1, 2, 5 × 10^k from lo to hi (powers of ten), with 0 first if `zero`.
function roundValues(lo, hi, zero) {
  const values = zero ? [0] : [];
  for (let e = Math.log10(lo); e <= Math.log10(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(1));
      if (v <= hi) values.push(v);
    }
  }
  return values;
}

export class LogSlider {
  // input: <input type=range>; fromSlider / toSlider: position ↔ value; onChange(value): the user moved it.
  constructor(input, { fromSlider, toSlider, min, max, zero = false, onChange }) {
    Object.assign(this, { input, fromSlider, toSlider, onChange });
    this.values = roundValues(min, max, zero);
    this.value = fromSlider(input.value);
    input.addEventListener("input", () => this.#moved(fromSlider(input.value)));
    input.addEventListener("keydown", (e) => this.#key(e));
  }

  #moved(value) {
    this.value = value;
    this.input.setAttribute("aria-valuetext", spoken(value));
    this.onChange(value);
  }

  #key(e) {
    const { values, value } = this;
    const above = values.findIndex((v) => v > value * (1 + 1e-9) && v > value);
    const below = values.findLastIndex((v) => v < value * (1 - 1e-9) && v < value);
    const index = values.findIndex((v) => Math.abs(v - value) <= 1e-9 * Math.max(1, v));
    let next;
    switch (e.key) {
      case "ArrowUp": case "ArrowRight": next = values[above]; break;
      case "ArrowDown": case "ArrowLeft": next = values[below]; break;
      case "PageUp": next = values[Math.min(values.length - 1, (index >= 0 ? index : below) + 3)]; break;
      case "PageDown": next = values[Math.max(0, (index >= 0 ? index : above) - 3)]; break;
      case "Home": next = values[0]; break;
      case "End": next = values[values.length - 1]; break;
      default: return;
    }
    e.preventDefault();
    if (next === undefined || next === value) return;
    this.input.value = this.toSlider(next);
    this.#moved(next);
  }

  // Show a value set elsewhere (the server's state, a typed number); never while the user is dragging.
  show(value) {
    if (value === this.value && this.input.getAttribute("aria-valuetext")) return;
    this.value = value;
    if (document.activeElement !== this.input || !this.input.matches(":active")) this.input.value = this.toSlider(value);
    this.input.setAttribute("aria-valuetext", spoken(value));
  }
}
