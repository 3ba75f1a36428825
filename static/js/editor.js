// Editing the data on the decision-region plot with pointer events, so that mouse, pen and touch all work:
// tap or click empty space to add a point of the selected class, drag a point to move it, shift-click (or
// delete mode) to remove it. A cancelled pointer (the browser took the gesture) ends a drag where it was.

import { pick, shapeIcon } from "./palette.js";
import { PointInfo } from "./pointinfo.js";
import { nearestTest } from "./testpoints.js";

const PICK_RADIUS = 10; // px for a mouse
const TOUCH_RADIUS = 20; // px for a finger
const TAP_SLOP = 10; // px a tap may move and still add a point

// The class of points added by a click: one radio button per class, with the class's shape and colour.
export function selectedClass() {
  return Number(document.querySelector("input[name=new-class]:checked")?.value ?? 0);
}

export function buildClassPicker(picker, classes, colors) {
  if (picker.childElementCount === classes && picker.dataset.palette === colors.name) return;
  picker.dataset.palette = colors.name;
  const current = selectedClass();
  picker.replaceChildren(...Array.from({ length: classes }, (_, k) => {
    const label = document.createElement("label");
    label.className = "class-swatch";
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "new-class", value: String(k), checked: k === Math.min(current, classes - 1) });
    input.style.accentColor = pick(colors.strong, k);
    label.append(input, shapeIcon(k, colors, 14), `${k}`);
    return label;
  }));
}

export class PointEditor {
  // getState(); getClass(); deleteMode(); preview(X, y): draw without asking the server; commit(X, y): send;
  // refuse(message): say why an edit was not made; colors(): the palette in use
  constructor(div, { getState, getClass, deleteMode, preview, commit, refuse, info }) {
    Object.assign(this, { div, getState, getClass, deleteMode, preview, commit, refuse });
    this.drag = null;
    this.tap = null;
    this.info = new PointInfo(info, div);
    div.addEventListener("pointerdown", (e) => this.#down(e));
    div.addEventListener("pointermove", (e) => this.#move(e));
    div.addEventListener("pointerup", (e) => this.#up(e));
    div.addEventListener("pointercancel", (e) => this.#cancel(e));
    div.addEventListener("lostpointercapture", (e) => this.#cancel(e));
    div.addEventListener("pointerleave", (e) => { if (e.pointerType !== "touch" && !this.drag) this.info.hide(); });
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

  #nearest(pos, pointerType) {
    const { X } = this.getState();
    if (!X) return -1;
    let best = -1;
    let bestDist = pointerType === "touch" ? TOUCH_RADIUS : PICK_RADIUS;
    X.forEach(([x0, x1], i) => {
      const d = Math.hypot(x0 - pos.x, x1 - pos.y) * pos.scale;
      if (d <= bestDist) { bestDist = d; best = i; }
    });
    return best;
  }

  #down(e) {
    if (!e.isPrimary || e.button !== 0 || !this.div._fullLayout) return;
    const pos = this.#toData(e);
    if (!pos.inside) return;
    const state = this.getState();
    const hit = this.#nearest(pos, e.pointerType);
    let test;
    if (hit >= 0 && (e.shiftKey || this.deleteMode())) {
      if (state.X.length > 1) {
        this.info.hide();
        this.commit(state.X.filter((_, i) => i !== hit), state.y.filter((_, i) => i !== hit));
      } else {
        this.refuse("That is the last point: the data needs at least one, so it cannot be deleted. Add another first.");
      }
      return;
    }
    if (hit >= 0) {
      e.preventDefault(); // no text selection or emulated mouse events during the drag
      this.drag = { id: e.pointerId, index: hit, X: state.X.map((p) => p.slice()), y: state.y.slice(), moved: false };
      this.div.setPointerCapture(e.pointerId);
      this.info.hide();
    } else if ((test = nearestTest(state, pos, e.pointerType === "touch" ? TOUCH_RADIUS : PICK_RADIUS)) >= 0) {
      this.info.showTest(state, test, this.#toPixels(state.X_test[test])); // held out: shown, never edited
    } else if (!this.deleteMode()) {
      this.tap = { id: e.pointerId, x: e.clientX, y: e.clientY, point: [clamp(pos.x), clamp(pos.y)] };
    }
  }

  #move(e) {
    if (this.tap?.id === e.pointerId && Math.hypot(e.clientX - this.tap.x, e.clientY - this.tap.y) > TAP_SLOP) this.tap = null;
    if (!this.drag) {
      if (e.pointerType !== "touch" && this.div._fullLayout) this.#hover(e);
      return;
    }
    if (e.pointerId !== this.drag.id) return;
    const pos = this.#toData(e);
    this.drag.X[this.drag.index] = [clamp(pos.x), clamp(pos.y)];
    this.drag.moved = true;
    this.preview(this.drag.X, this.drag.y);
    this.commit(this.drag.X.map((p) => p.slice()), this.drag.y); // coalesced: only the latest position is sent
  }

  #hover(e) {
    const pos = this.#toData(e);
    const state = this.getState();
    const hit = pos.inside ? this.#nearest(pos, e.pointerType) : -1;
    const test = hit < 0 && pos.inside ? nearestTest(state, pos, PICK_RADIUS) : -1;
    if (hit >= 0) this.info.show(state, hit, this.#toPixels(state.X[hit]));
    else if (test >= 0) this.info.showTest(state, test, this.#toPixels(state.X_test[test]));
    else this.info.hide();
  }

  #toPixels([x, y]) {
    const { xaxis, yaxis } = this.div._fullLayout;
    return [xaxis._offset + ((x + 1) / 2) * xaxis._length, yaxis._offset + ((1 - y) / 2) * yaxis._length];
  }

  #up(e) {
    if (this.drag && e.pointerId === this.drag.id) {
      const { X, y, moved, index } = this.drag;
      this.drag = null;
      if (moved) this.commit(X, y);
      else this.info.show(this.getState(), index, this.#toPixels(X[index])); // a tap on a point: its details
      return;
    }
    if (this.tap?.id === e.pointerId) {
      const { point } = this.tap;
      this.tap = null;
      const state = this.getState();
      this.info.hide();
      this.commit([...state.X, point], [...state.y, this.getClass()]);
    }
  }

  // The browser took the pointer (a scroll or zoom gesture, a lost capture): end the drag at the last
  // position it reached, so that the editor is ready for the next tap.
  #cancel(e) {
    if (this.tap?.id === e.pointerId) this.tap = null;
    if (!this.drag || e.pointerId !== this.drag.id) return;
    const { X, y, moved } = this.drag;
    this.drag = null;
    if (moved) this.commit(X, y);
  }
}

const clamp = (v) => Math.max(-1, Math.min(1, Math.round(v * 1000) / 1000));
