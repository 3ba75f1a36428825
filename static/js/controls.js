// The parameter panel: per parameter ▲ value gradient ▼ in the class's tint. ▲/▼ nudge (hold to repeat), the
// value can be clicked to type it. Views only: every change goes through the callbacks main.js wires in.

import { fixed2 } from "./format.js";
import { NumberEdit } from "./numberedit.js";
import { pick } from "./palette.js";

export const NUDGE = 0.1;
export const PARAM_LIMIT = 1e6; // |W|, |b| the API accepts
const HOLD_DELAY = 350; // ms before a held ▲/▼ starts repeating
const HOLD_EVERY = 70; // ms between repeats

// Write a text only if it changed (a write costs a layout); true if it did.
export function setText(el, text) {
  if (el.textContent === text) return false;
  el.textContent = text;
  return true;
}

export class ParamPanel {
  // onNudge(which, k, d, delta); onSet(which, k, d, value); onError(message or null)
  constructor(root, { onNudge, onSet, onError }) {
    Object.assign(this, { root, onNudge, onSet, onError });
    this.classes = 0;
    this.cells = [];
    this.tints = null;
  }

  build(classes, colors) {
    this.classes = classes;
    this.tints = colors.tint;
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
        cell.style.background = pick(colors.tint, k);
        cell.dataset.param = name;
        const up = this.#button("▲", `increase ${name} by ${NUDGE}`, () => this.onNudge(which, k, d, +NUDGE));
        const value = document.createElement("button");
        value.type = "button";
        value.className = "value";
        const editor = new NumberEdit(value, {
          name, min: -PARAM_LIMIT, max: PARAM_LIMIT, onCommit: (v) => this.onSet(which, k, d, v), onError: this.onError,
        });
        const grad = document.createElement("span");
        grad.className = "grad";
        grad.title = `∂L/∂${name}`;
        const down = this.#button("▼", `decrease ${name} by ${NUDGE}`, () => this.onNudge(which, k, d, -NUDGE));
        cell.append(up, value, grad, down);
        this.root.append(cell);
        this.cells.push({ which, k, d, editor, grad });
      }
    }
  }

  #button(text, label, action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "nudge";
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

  update(state, colors) {
    if (state.W.length !== this.classes || colors.tint !== this.tints) this.build(state.W.length, colors);
    for (const c of this.cells) {
      const v = c.which === "W" ? state.W[c.k][c.d] : state.b[c.k];
      const g = c.which === "W" ? state.dW[c.k][c.d] : state.db[c.k];
      c.editor.show(v);
      const grad = fixed2(g);
      if (setText(c.grad, grad)) c.grad.classList.toggle("long", grad.length >= 8);
    }
  }
}
