// Editing the data on the decision-region plot: click empty space to add a point of the selected class,
// drag a point to move it, shift-click (or delete mode) to remove it.

import { CLASS_COLORS } from "./state.js";

const PICK_RADIUS = 10; // px

// The class of points added by a click: one radio button per class, in the class's colour.
export function selectedClass() {
  return Number(document.querySelector("input[name=new-class]:checked")?.value ?? 0);
}

export function buildClassPicker(picker, classes) {
  if (picker.childElementCount === classes) return;
  const current = selectedClass();
  picker.replaceChildren(...Array.from({ length: classes }, (_, k) => {
    const label = document.createElement("label");
    label.className = "class-swatch";
    label.style.color = CLASS_COLORS[k % CLASS_COLORS.length];
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "new-class", value: String(k), checked: k === Math.min(current, classes - 1) });
    label.append(input, `${k}`);
    return label;
  }));
}

export class PointEditor {
  constructor(div, { getState, getClass, deleteMode, preview, commit }) {
    Object.assign(this, { div, getState, getClass, deleteMode, preview, commit });
    this.drag = null;
    div.addEventListener("pointerdown", (e) => this.#down(e));
    div.addEventListener("pointermove", (e) => this.#move(e));
    div.addEventListener("pointerup", (e) => this.#up(e));
  }

  // Pixel → data coordinates through the axes Plotly laid out (fixed ranges [-1, 1]).
  #toData(e) {
    const { xaxis, yaxis } = this.div._fullLayout;
    const rect = this.div.getBoundingClientRect();
    const px = e.clientX - rect.left - xaxis._offset;
    const py = e.clientY - rect.top - yaxis._offset;
    const x = xaxis.range[0] + (px / xaxis._length) * (xaxis.range[1] - xaxis.range[0]);
    const y = yaxis.range[1] - (py / yaxis._length) * (yaxis.range[1] - yaxis.range[0]);
    return { x, y, inside: px >= 0 && py >= 0 && px <= xaxis._length && py <= yaxis._length, scale: xaxis._length / 2 };
  }

  #nearest(pos) {
    const { X } = this.getState();
    let best = -1;
    let bestDist = PICK_RADIUS;
    X.forEach(([x0, x1], i) => {
      const d = Math.hypot(x0 - pos.x, x1 - pos.y) * pos.scale;
      if (d <= bestDist) { bestDist = d; best = i; }
    });
    return best;
  }

  #down(e) {
    if (e.button !== 0 || !this.div._fullLayout) return;
    const pos = this.#toData(e);
    if (!pos.inside) return;
    const state = this.getState();
    const hit = this.#nearest(pos);
    if (hit >= 0 && (e.shiftKey || this.deleteMode())) {
      if (state.X.length > 1) this.commit(state.X.filter((_, i) => i !== hit), state.y.filter((_, i) => i !== hit));
      return;
    }
    if (hit >= 0) {
      this.drag = { index: hit, X: state.X.map((p) => p.slice()), y: state.y.slice(), moved: false };
      this.div.setPointerCapture(e.pointerId);
    } else if (!this.deleteMode()) {
      const p = [clamp(pos.x), clamp(pos.y)];
      this.commit([...state.X, p], [...state.y, this.getClass()]);
    }
  }

  #move(e) {
    if (!this.drag) return;
    const pos = this.#toData(e);
    this.drag.X[this.drag.index] = [clamp(pos.x), clamp(pos.y)];
    this.drag.moved = true;
    this.preview(this.drag.X, this.drag.y);
    this.commit(this.drag.X.map((p) => p.slice()), this.drag.y); // coalesced: only the latest position is sent
  }

  #up() {
    if (!this.drag) return;
    const { X, y, moved } = this.drag;
    this.drag = null;
    if (moved) this.commit(X, y);
  }
}

const clamp = (v) => Math.max(-1, Math.min(1, Math.round(v * 1000) / 1000));
