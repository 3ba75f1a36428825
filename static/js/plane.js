// The plane's layers: the axes (redrawn only when the font changes) and the data layer, redrawn every frame.
// While the repeated update runs on large data the points do not change (the frames carry no per-example
// arrays), so they move to a layer of their own, drawn once; the regions (K exact polygons, see
// regionPolygon), the class lines and arrows are then painted on a canvas beneath them, in the axes layer's
// own pixel geometry: a frame costs well under a millisecond, where Plotly.react of the same traces costs
// 10–20 ms. On Stop the Plotly layer holds everything again, as at rest (with the heatmap of 100 × 100 cells
// that the tests and the colour checks read).

import { pick } from "./palette.js";
import { arrowPath, planeAxesFigure, regionsFigure, zeroLine } from "./plots.js";
import { testPointsTrace } from "./testpoints.js";

const STATIC = { staticPlot: true, responsive: true };

export class Plane {
  constructor({ axes, regions, points, canvas }) {
    Object.assign(this, { axes, regions, points, canvas });
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
    const shown = this.pointsDrawn;
    if (!live || !shown || shown[0] !== state.X || shown[1] !== state.y || shown[2] !== style || shown[3] !== state.X_test) {
      const fig = regionsFigure(state, style);
      const tests = testPointsTrace(state, style); // held-out points: drawn with the points, never edited
      if (tests) fig.data.push({ ...tests, meta: "points" });
      if (!live) {
        this.#clearLive();
        Plotly.react(this.regions, fig.data, fig.layout, STATIC);
        return;
      }
      this.points.hidden = false;
      Plotly.react(this.points, fig.data.filter((trace) => trace.meta === "points"), fig.layout, STATIC);
      this.pointsDrawn = [state.X, state.y, style, state.X_test];
    }
    this.regions.classList.add("behind-canvas"); // transparent, still the pointer's target
    this.canvas.hidden = false;
    paintRegions(this.canvas, this.axes._fullLayout, state, style.colors);
  }

  // A new font size: the axes are drawn again at the next frame.
  restyle() {
    this.axesFont = null;
    this.pointsDrawn = null;
  }

  #clearLive() {
    if (this.canvas.hidden) return; // not live (restyle may have forgotten the points drawn: not a guide)
    this.pointsDrawn = null;
    Plotly.purge(this.points);
    this.points.hidden = true;
    this.canvas.hidden = true;
    this.regions.classList.remove("behind-canvas");
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

// The regions, the axes through the origin, each class's zero line and arrow and the last minibatch's circles,
// painted on `canvas` in the pixel geometry of the Plotly layout `layout` (the axes layer's: the same box as
// the data layer's).
function paintRegions(canvas, layout, state, colors) {
  const { W, b } = state;
  const { xaxis, yaxis, width, height } = layout;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    [canvas.width, canvas.height] = [Math.round(width * ratio), Math.round(height * ratio)];
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const px = (x) => xaxis._offset + ((x + 1) / 2) * xaxis._length;
  const py = (y) => yaxis._offset + ((1 - y) / 2) * yaxis._length;
  const path = (xs, ys) => { // a polyline; null starts a new piece
    ctx.beginPath();
    let pen = false;
    xs.forEach((x, i) => {
      if (x === null) { pen = false; return; }
      if (pen) ctx.lineTo(px(x), py(ys[i]));
      else ctx.moveTo(px(x), py(ys[i]));
      pen = true;
    });
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(px(-1), py(1), xaxis._length, yaxis._length);
  ctx.clip();
  W.forEach((_, k) => {
    const polygon = regionPolygon(W, b, k);
    if (polygon.length < 3) return;
    path([...polygon.map((p) => p[0]), polygon[0][0]], [...polygon.map((p) => p[1]), polygon[0][1]]);
    ctx.fillStyle = ctx.strokeStyle = pick(colors.region, k);
    ctx.lineWidth = 1; // over the seams between neighbours
    ctx.fill();
    ctx.stroke();
  });
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#000";
  path([-1, 1, null, 0, 0], [0, 0, null, -1, 1]);
  ctx.stroke();
  ctx.lineWidth = 2.5;
  W.forEach(([w0, w1], k) => {
    ctx.strokeStyle = pick(colors.strong, k);
    const seg = zeroLine(w0, w1, b[k]);
    if (seg) { path([seg[0][0], seg[1][0]], [seg[0][1], seg[1][1]]); ctx.stroke(); }
    const arrow = arrowPath(w0, w1, b[k]);
    if (arrow) { path(arrow[0], arrow[1]); ctx.stroke(); }
  });
  // the last minibatch, circled as at rest (regionsFigure)
  const batch = state.optimizer === "sgd" && state.last_batch && state.X ? state.last_batch.filter((i) => i < state.X.length) : [];
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#111";
  for (const i of batch) {
    ctx.beginPath();
    ctx.arc(px(state.X[i][0]), py(state.X[i][1]), 9, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();
}
