// The plane's layers: the axes (redrawn only when the font changes) and the data layer, redrawn every frame.
// While the repeated update runs on large data the points do not change (the frames carry no per-example
// arrays), so they move to a layer of their own, drawn once: a frame then redraws only the regions, lines
// and arrows, and costs the same at 10,000 points as at 9. The regions are then drawn as K exact polygons
// instead of the heatmap's 100 × 100 cells: filled paths redraw several times faster than the heatmap's image.
// On Stop one layer holds everything again, as at rest.

import { pick } from "./palette.js";
import { planeAxesFigure, regionsFigure } from "./plots.js";
import { testPointsTrace } from "./testpoints.js";

const STATIC = { staticPlot: true, responsive: true };

export class Plane {
  constructor({ axes, regions, points }) {
    Object.assign(this, { axes, regions, points });
    this.frames = 0; // drawn so far (the animation benchmark counts them)
    this.axesFont = null;
    this.pointsDrawn = null; // what the points layer shows: [X, y, style, X_test], or null when it is empty
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
    const tests = testPointsTrace(state, style); // held-out points: drawn with the points, never edited
    if (tests) fig.data.push({ ...tests, meta: "points" });
    if (!live) {
      this.#clearPoints();
      Plotly.react(this.regions, fig.data, fig.layout, STATIC);
      return;
    }
    const isPoints = (trace) => trace.meta === "points";
    const shown = this.pointsDrawn;
    if (!shown || shown[0] !== state.X || shown[1] !== state.y || shown[2] !== style || shown[3] !== state.X_test) {
      this.points.hidden = false;
      Plotly.react(this.points, fig.data.filter(isPoints), fig.layout, STATIC);
      this.pointsDrawn = [state.X, state.y, style, state.X_test];
    }
    const rest = fig.data.filter((trace) => !isPoints(trace) && trace.type !== "heatmap");
    Plotly.react(this.regions, [...regionTraces(state, style.colors), ...rest], fig.layout, STATIC);
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

// Where class k scores highest: the square [-1, 1]² cut by the half-planes s_k ≥ s_j, j ≠ k (Sutherland–Hodgman).
export function regionPolygon(W, b, k) {
  let polygon = [[-1, -1], [1, -1], [1, 1], [-1, 1]];
  for (let j = 0; j < W.length && polygon.length; j++) {
    if (j === k) continue;
    const side = (p) => (W[k][0] - W[j][0]) * p[0] + (W[k][1] - W[j][1]) * p[1] + b[k] - b[j];
    const kept = [];
    polygon.forEach((p, i) => {
      const q = polygon[(i + 1) % polygon.length];
      const [sp, sq] = [side(p), side(q)];
      if (sp >= 0) kept.push(p);
      if ((sp >= 0) !== (sq >= 0)) {
        const t = sp / (sp - sq);
        kept.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
      }
    });
    polygon = kept;
  }
  return polygon;
}

function regionTraces({ W, b }, colors) {
  return W.map((_, k) => {
    const polygon = regionPolygon(W, b, k);
    const color = pick(colors.region, k);
    return {
      type: "scatter", mode: "lines", fill: "toself", fillcolor: color, hoverinfo: "skip",
      line: { color, width: 1 }, // the same colour over the seams between neighbours
      x: polygon.map((p) => p[0]), y: polygon.map((p) => p[1]),
    };
  });
}
