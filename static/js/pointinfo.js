// The details of one point, beside it on the plane: index, coordinates, label, scores and loss L_i.

import { fixed2 } from "./format.js";

const OFFSET = 14; // px between the point and the box

export class PointInfo {
  constructor(box, plot) {
    this.box = box;
    this.plot = plot;
    this.index = -1;
  }

  show(state, i, [px, py]) {
    const { X, y, scores, losses } = state;
    if (!X || i >= X.length) return this.hide();
    const lines = [
      [`point ${i}`, ` · class ${y[i]}`],
      ["x = ", `(${fixed2(X[i][0])}, ${fixed2(X[i][1])})`],
    ];
    if (scores && losses) {
      lines.push(["s = ", scores[i].map(fixed2).join(", ")]);
      lines.push(["Lᵢ = ", fixed2(losses[i])]);
    }
    this.#place(lines, i, px, py);
  }

  // A held-out point: its label and scores s = W x + b; it has no part in the training loss.
  showTest(state, j, [px, py]) {
    const { X_test: X, y_test: y, W, b } = state;
    if (!X || j >= X.length) return this.hide();
    const [x0, x1] = X[j];
    this.#place([
      [`test point ${j}`, ` · class ${y[j]}`],
      ["x = ", `(${fixed2(x0)}, ${fixed2(x1)})`],
      ["s = ", W.map((w, k) => fixed2(w[0] * x0 + w[1] * x1 + b[k])).join(", ")],
      ["", "held out: not trained on"],
    ], -1, px, py);
  }

  #place(lines, i, px, py) {
    this.box.replaceChildren(...lines.map(([head, text]) => {
      const div = document.createElement("div");
      const b = document.createElement("b");
      b.textContent = head;
      div.append(b, text);
      return div;
    }));
    this.box.hidden = false;
    this.index = i;
    // Beside the point, flipped to the other side near the right or bottom edge; always inside the plot.
    const { width, height } = this.plot.getBoundingClientRect();
    const w = this.box.offsetWidth;
    const h = this.box.offsetHeight;
    const left = px + OFFSET + w <= width ? px + OFFSET : Math.max(0, px - OFFSET - w);
    const top = py + OFFSET + h <= height ? py + OFFSET : Math.max(0, py - OFFSET - h);
    this.box.style.left = `${left}px`;
    this.box.style.top = `${top}px`;
  }

  hide() {
    if (this.box.hidden) return;
    this.box.hidden = true;
    this.index = -1;
  }
}
