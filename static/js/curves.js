// The image page's loss and accuracy curves: each a data layer redrawn over an axes layer redrawn only when its
// ranges change (as the main page draws its plots). A view: it draws the ExperimentView it is given.

import { accuracyAxesFigure, accuracyFigure } from "./imageplots.js";
import { OPTIMIZER_COLORS, OPTIMIZER_NAMES, lossAxesFigure, lossFigure } from "./plots.js";

const EVERY = 3; // the curves take at most a quarter of the drawing time: the templates come first
const MIN_MS = 250; // and are redrawn at most four times a second: enough to watch a curve fall

function layered(axesDiv, dataDiv, figure, axesFigure, last) {
  const key = JSON.stringify(figure.ranges);
  if (key !== last) {
    const axes = axesFigure(figure.ranges);
    Plotly.react(axesDiv, axes.data, axes.layout, { staticPlot: true, responsive: true });
  }
  Plotly.react(dataDiv, figure.data, figure.layout, { displayModeBar: false, responsive: true });
  return key;
}

export class Curves {
  constructor({ lossAxes, loss, accuracyAxes, accuracy, legend, logY }) {
    Object.assign(this, { lossAxes, loss, accuracyAxes, accuracy, legend, logY });
    this.keys = {};
    this.at = -Infinity;
    this.cost = 0;
  }

  // Plotly redraws cost far more than the templates' canvases: the curves wait until three times the time their last
  // redraw took (and at least MIN_MS) has passed, and the templates keep their frame rate on a busy machine.
  drawSoon(view) {
    clearTimeout(this.timer);
    const wait = this.at + Math.max(EVERY * this.cost, MIN_MS) - performance.now();
    if (wait <= 0) this.draw(view);
    else this.timer = setTimeout(() => this.draw(view), wait);
  }

  draw(view) {
    const t0 = performance.now();
    this.keys.loss = layered(this.lossAxes, this.loss, lossFigure(view, this.logY.checked), lossAxesFigure, this.keys.loss);
    this.keys.accuracy = layered(this.accuracyAxes, this.accuracy, accuracyFigure(view.accuracy), accuracyAxesFigure,
      this.keys.accuracy);
    const names = [...new Set(view.state.segments.map((s) => s.optimizer))];
    if (this.legend.dataset.names !== names.join()) {
      this.legend.dataset.names = names.join();
      this.legend.replaceChildren(...names.map((name) => {
        const li = document.createElement("li");
        li.textContent = OPTIMIZER_NAMES[name];
        li.style.setProperty("--swatch", OPTIMIZER_COLORS[name]);
        return li;
      }));
    }
    this.at = performance.now();
    this.cost = this.at - t0;
  }
}
