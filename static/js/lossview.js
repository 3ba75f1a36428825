// The loss curve's view: the data layer (drawn every frame), the axes layer with the change marks (drawn only
// when the ranges or the marks change), the note and the legend (optimizers, and the test curve when there is
// one).

import { setText } from "./controls.js";
import { changeMarks } from "./markers.js";
import { OPTIMIZER_COLORS, OPTIMIZER_NAMES, TEST_COLOR, lossAxesFigure, lossFigure } from "./plots.js";

export class LossCurveView {
  constructor({ axesDiv, curveDiv, note, legend }) {
    Object.assign(this, { axesDiv, curveDiv, note, legend });
    this.axesKey = null;
  }

  draw(view, logY, style) {
    const curve = lossFigure(view, logY, style);
    const { l, r } = curve.layout.margin;
    // Plotly's own record of the div's width (clientWidth would force a layout every frame); before the first
    // Plotly draw there is none, and clientWidth is read once
    const width = Math.max(1, (this.curveDiv._fullLayout?.width ?? this.curveDiv.clientWidth) - l - r);
    const marks = changeMarks(view.state.changes, view.state.segments, curve.ranges.x, width, style.font);
    const key = JSON.stringify(curve.ranges) + marks.key;
    if (key !== this.axesKey) { // the axes layer changes only when the ranges step up or the marks change
      this.axesKey = key;
      const axes = lossAxesFigure(curve.ranges);
      axes.layout.shapes = marks.shapes;
      axes.layout.annotations = marks.annotations;
      Plotly.react(this.axesDiv, axes.data, axes.layout, { staticPlot: true, responsive: true });
    }
    Plotly.react(this.curveDiv, curve.data, curve.layout, { displayModeBar: false, responsive: true });
    setText(this.note, curve.note);
    this.#legend(view);
  }

  #legend(view) {
    const names = [...new Set(view.state.segments.map((seg) => seg.optimizer))];
    const test = Boolean(view.testHistory);
    const key = names.join() + (test ? ",test" : "");
    if (this.legend.dataset.names === key) return;
    this.legend.dataset.names = key;
    const item = (text, color, className = "") => {
      const li = document.createElement("li");
      li.textContent = text;
      li.style.setProperty("--swatch", color);
      if (className) li.className = className;
      return li;
    };
    const items = names.map((name) => item(OPTIMIZER_NAMES[name], OPTIMIZER_COLORS[name]));
    if (test) items.push(item("test data loss (no λ term)", TEST_COLOR, "dotted"));
    this.legend.replaceChildren(...items);
  }
}
