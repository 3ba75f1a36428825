// The parameter panel (▲/▼ per parameter, hold to repeat), the sliders and the selectors. Views only: every
// change goes through the callbacks the page wires in main.js.

import { TINTS } from "./state.js";

export const NUDGE = 0.1;
const HOLD_DELAY = 350; // ms before a held ▲/▼ starts repeating
const HOLD_EVERY = 70; // ms between repeats

// Log-scale sliders: the position is log10 of the value; the regularization slider's lowest notch is λ = 0.
export const stepSizeFromSlider = (s) => 10 ** Number(s);
export const sliderFromStepSize = (v) => Math.log10(v);
export const regFromSlider = (s) => (Number(s) <= -4.1 ? 0 : 10 ** Math.max(Number(s), -4));
export const sliderFromReg = (v) => (v <= 0 ? -4.2 : Math.log10(v));

// Two decimals, without the "-0.00" that toFixed gives small negative numbers.
export const fixed2 = (v) => (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export class ParamPanel {
  constructor(root, onNudge) {
    this.root = root;
    this.onNudge = onNudge;
    this.classes = 0;
    this.cells = [];
  }

  build(classes) {
    this.classes = classes;
    this.root.replaceChildren();
    for (const head of ["W[k,0]", "W[k,1]", "b[k]"]) {
      const h = document.createElement("div");
      h.className = "param-head";
      h.textContent = head;
      this.root.append(h);
    }
    this.cells = [];
    for (let k = 0; k < classes; k++) {
      for (const [name, which, d] of [[`W[${k},0]`, "W", 0], [`W[${k},1]`, "W", 1], [`b[${k}]`, "b", null]]) {
        const cell = document.createElement("div");
        cell.className = "param";
        cell.style.background = TINTS[k % TINTS.length];
        cell.dataset.param = name;
        const up = this.#button("▲", `increase ${name} by ${NUDGE}`, () => this.onNudge(which, k, d, +NUDGE));
        const value = document.createElement("span");
        value.className = "value";
        const grad = document.createElement("span");
        grad.className = "grad";
        grad.title = `∂L/∂${name}`;
        const down = this.#button("▼", `decrease ${name} by ${NUDGE}`, () => this.onNudge(which, k, d, -NUDGE));
        cell.append(up, value, grad, down);
        this.root.append(cell);
        this.cells.push({ which, k, d, value, grad });
      }
    }
  }

  #button(text, label, action) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = text;
    button.setAttribute("aria-label", label);
    let timer = null;
    const stop = () => { clearTimeout(timer); timer = null; };
    const repeat = () => { action(); timer = setTimeout(repeat, HOLD_EVERY); };
    button.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      action();
      timer = setTimeout(repeat, HOLD_DELAY);
    });
    for (const ev of ["pointerup", "pointerleave", "pointercancel", "blur"]) button.addEventListener(ev, stop);
    button.addEventListener("click", (e) => { if (e.detail === 0) action(); }); // keyboard (Enter / Space)
    return button;
  }

  update(state) {
    if (state.W.length !== this.classes) this.build(state.W.length);
    for (const c of this.cells) {
      const v = c.which === "W" ? state.W[c.k][c.d] : state.b[c.k];
      const g = c.which === "W" ? state.dW[c.k][c.d] : state.db[c.k];
      setText(c.value, fixed2(v));
      setText(c.grad, fixed2(g));
    }
  }
}

export { setText };
