// The plane's layers: the axes (redrawn only when the font changes) and the data layer, redrawn every frame.
// While the repeated update runs on large data the points do not change (the frames carry no per-example
// arrays), so they move to a layer of their own, drawn once: a frame then redraws only the regions, lines
// and arrows, and costs the same at 10,000 points as at 9. On Stop one layer holds everything again.

import { planeAxesFigure, regionsFigure } from "./plots.js";

const STATIC = { staticPlot: true, responsive: true };

export class Plane {
  constructor({ axes, regions, points }) {
    Object.assign(this, { axes, regions, points });
    this.frames = 0; // drawn so far (the animation benchmark counts them)
    this.axesFont = null;
    this.pointsDrawn = null; // what the points layer shows: [X, y, style], or null when it is empty
  }

  // Draw `state`; `live`: the points are those of the last full state and stay as they are until Stop.
  draw(state, style, live = false) {
    this.frames++;
    if (this.axesFont !== style.font) {
      this.axesFont = style.font;
      const axes = planeAxesFigure(style);
      Plotly.react(this.axes, axes.data, axes.layout, STATIC);
    }
    const fig = regionsFigure(state, style);
    if (!live) {
      this.#clearPoints();
      Plotly.react(this.regions, fig.data, fig.layout, STATIC);
      return;
    }
    const isPoints = (trace) => trace.meta === "points";
    const shown = this.pointsDrawn;
    if (!shown || shown[0] !== state.X || shown[1] !== state.y || shown[2] !== style) {
      this.points.hidden = false;
      Plotly.react(this.points, fig.data.filter(isPoints), fig.layout, STATIC);
      this.pointsDrawn = [state.X, state.y, style];
    }
    Plotly.react(this.regions, fig.data.filter((trace) => !isPoints(trace)), fig.layout, STATIC);
  }

  // A new font size: the axes are drawn again at the next frame.
  restyle() {
    this.axesFont = null;
    this.pointsDrawn = null;
  }

  #clearPoints() {
    if (!this.pointsDrawn) return;
    this.pointsDrawn = null;
    Plotly.purge(this.points);
    this.points.hidden = true;
  }
}
