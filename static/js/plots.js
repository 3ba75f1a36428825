// Pure figure builders: state in, Plotly {data, layout} out. Every call builds new arrays, so that
// Plotly.react sees new data (it skips a redraw when the same arrays are mutated in place).
//
// Each plot is two Plotly figures stacked in one box with identical geometry: an *axes layer* (frame, ticks,
// labels, grid), redrawn only when its ranges change, and on top a *data layer* with hidden axes that
// Plotly.react redraws every frame. Drawing axes is a large part of a redraw; this way a frame pays only for
// the traces.

import { SYMBOLS, palette, pick } from "./palette.js";
import { paramValue } from "./state.js";

export { CEILING, OPTIMIZER_COLORS, OPTIMIZER_NAMES, TEST_COLOR, lossAxesFigure, lossFigure, niceCeil } from "./curve.js";

const GRID = 100; // cells per side of the decision-region grid, computed here from W, b (no server round trip)
const ARROW_SCALE = 0.1; // arrow length = 0.1 |W_k| in plot units
const ARROW_MAX = 3;
export const MAX_DRAWN = 2000; // points drawn on the plane at most
const HEAD = 0.06; // arrowhead barb length, plot units
const HEAD_COS = Math.cos(Math.PI / 7);
const HEAD_SIN = Math.sin(Math.PI / 7);
const CELL = 2 / GRID;
const CENTRES = Array.from({ length: GRID }, (_, i) => -1 + CELL * (i + 0.5));
const DEFAULT_STYLE = { colors: palette("default"), font: 14 };

// argmax_k (W_k · x + b_k) on the grid; ties go to the lower class, as on the server.
export function regionGrid(W, b) {
  const z = new Array(GRID);
  for (let i = 0; i < GRID; i++) {
    const row = new Array(GRID);
    const x1 = CENTRES[i];
    for (let j = 0; j < GRID; j++) {
      const x0 = CENTRES[j];
      let best = 0;
      let top = -Infinity;
      for (let k = 0; k < W.length; k++) {
        const s = W[k][0] * x0 + W[k][1] * x1 + b[k];
        if (s > top) { top = s; best = k; }
      }
      row[j] = best;
    }
    z[i] = row;
  }
  return z;
}

function discreteScale(classes, colors) {
  const scale = [];
  for (let k = 0; k < classes; k++) {
    const c = pick(colors.region, k);
    scale.push([k / classes, c], [(k + 1) / classes, c]);
  }
  return scale;
}

// The segment of {x : w·x + c = 0} inside [-1, 1]², or null.
export function zeroLine(w0, w1, c) {
  const pts = [];
  const add = (x, y) => {
    if (x >= -1 - 1e-9 && x <= 1 + 1e-9 && y >= -1 - 1e-9 && y <= 1 + 1e-9) pts.push([x, y]);
  };
  if (Math.abs(w1) > 1e-12) { add(-1, (w0 - c) / w1); add(1, (-w0 - c) / w1); }
  if (Math.abs(w0) > 1e-12) { add((w1 - c) / w0, -1); add((-w1 - c) / w0, 1); }
  if (pts.length < 2) return null;
  pts.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  return [pts[0], pts[pts.length - 1]];
}

// Where the arrow of class k starts: on its line at x0 = 0 (as in the original), else the line's point
// nearest the origin.
export function arrowBase(w0, w1, c) {
  if (Math.abs(w1) > 1e-12 && Math.abs(c / w1) <= 1) return [0, -c / w1];
  const n2 = w0 * w0 + w1 * w1;
  return n2 > 0 ? [(-c * w0) / n2, (-c * w1) / n2] : null;
}

// The arrow of class k as a polyline (x list, y list): base → tip → one barb, gap, tip → other barb.
export function arrowPath(w0, w1, c) {
  const base = arrowBase(w0, w1, c);
  const norm = Math.hypot(w0, w1);
  if (!base || Math.abs(base[0]) > 1 || Math.abs(base[1]) > 1 || norm === 0) return null;
  const length = Math.min(ARROW_SCALE * norm, ARROW_MAX); // longer only leaves the plot (and breaks SVG)
  const [ux, uy] = [w0 / norm, w1 / norm];
  const tip = [base[0] + length * ux, base[1] + length * uy];
  const head = Math.min(HEAD, length * 0.6);
  const barb = (sign) => [
    tip[0] - head * (ux * HEAD_COS - sign * uy * HEAD_SIN), tip[1] - head * (uy * HEAD_COS + sign * ux * HEAD_SIN)];
  const [l, r] = [barb(1), barb(-1)];
  return [[base[0], tip[0], l[0], null, tip[0], r[0]], [base[1], tip[1], l[1], null, tip[1], r[1]]];
}

// style: { colors: a palette (palette.js), font: px of the axes' labels, and the points grow with it }
export function regionsFigure(state, style = DEFAULT_STYLE) {
  const { W, b, X, y } = state;
  const { colors, font } = style;
  const K = W.length;
  const data = [{
    type: "heatmap", x: CENTRES, y: CENTRES, z: regionGrid(W, b), zmin: -0.5, zmax: K - 0.5,
    colorscale: discreteScale(K, colors), showscale: false, hoverinfo: "skip", zsmooth: false,
  }, {
    // the axes through the origin, over the regions (the axes layer lies beneath them)
    type: "scatter", mode: "lines", x: [-1, 1, null, 0, 0], y: [0, 0, null, -1, 1],
    line: { color: "#000", width: 1.5 }, hoverinfo: "skip",
  }];
  for (let k = 0; k < K; k++) {
    // One line trace per class: its zero line, then the arrow from base to tip with a "V" head drawn as two
    // short strokes (plain line segments redraw far faster than markers or layout annotations).
    const [w0, w1] = W[k];
    const seg = zeroLine(w0, w1, b[k]);
    const xs = seg ? [seg[0][0], seg[1][0], null] : [];
    const ys = seg ? [seg[0][1], seg[1][1], null] : [];
    const arrow = arrowPath(w0, w1, b[k]);
    if (arrow) { xs.push(...arrow[0]); ys.push(...arrow[1]); }
    data.push({
      type: "scatter", mode: "lines", x: xs, y: ys, hoverinfo: "skip",
      line: { color: pick(colors.strong, k), width: 2.5 },
    });
  }
  // Beyond MAX_DRAWN points an evenly spaced sample is drawn (SVG stays fast; WebGL is not always there).
  const stride = Math.ceil(X.length / MAX_DRAWN);
  const shown = stride > 1 ? X.map((_, i) => i).filter((i) => i % stride === 0) : X.map((_, i) => i);
  const small = stride > 1 || X.length > 1000;
  data.push({
    type: "scatter", mode: "markers", meta: "points", x: shown.map((i) => X[i][0]), y: shown.map((i) => X[i][1]),
    marker: {
      size: small ? 6 : Math.round(font * 0.85), color: shown.map((i) => pick(colors.strong, y[i])),
      symbol: shown.map((i) => pick(SYMBOLS, y[i])), line: { color: "#1b1f24", width: small ? 0.5 : 1.3 },
    },
    hoverinfo: "skip",
  });
  const batch = state.optimizer === "sgd" && state.last_batch ? state.last_batch.filter((i) => i < X.length) : [];
  if (batch.length) data.push({
    type: "scatter", mode: "markers", x: batch.map((i) => X[i][0]), y: batch.map((i) => X[i][1]),
    marker: { size: 20, symbol: "circle-open", color: "#111", line: { width: 2 } }, hoverinfo: "skip",
  });
  return { data, layout: planeLayout(false, font) };
}

// The data layer's axes are hidden and carry only what fixes the geometry (ranges, margins, square box):
// anything more (ticks, titles, fonts) would make every frame's Plotly.react redo work nobody sees.
function planeLayout(axesShown, font) {
  // A square box (l + r = t + b) in a square div, and the ranges kept at [-1, 1] (constrain: domain): the
  // point editor and the tests map pixels to data through these.
  const [l, r, b] = [Math.round(font * 3.3), 10, Math.round(font * 2.9)];
  const axis = { range: [-1, 1], fixedrange: true, constrain: "domain", visible: axesShown };
  const layout = {
    xaxis: { ...axis },
    yaxis: { ...axis, scaleanchor: "x", scaleratio: 1 },
    margin: { l, r, t: l + r - b, b }, showlegend: false,
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: axesShown ? "#fff" : "rgba(0,0,0,0)",
  };
  if (!axesShown) return layout;
  const shown = {
    showgrid: false, zeroline: false, automargin: false, ticks: "outside", tickvals: [-1, -0.5, 0, 0.5, 1],
    ticktext: ["−1", "−0.5", "0", "0.5", "1"], mirror: true, showline: true, linecolor: "#6e757d", tickfont: { size: font },
  };
  const title = (text) => ({ text, standoff: 2, font: { size: font } });
  Object.assign(layout.xaxis, shown, { title: title("x[0]") });
  Object.assign(layout.yaxis, shown, { title: title("x[1]") });
  layout.font = { size: font, color: "#1f2328" };
  return layout;
}

// The plane's axes layer: drawn once per font size.
export function planeAxesFigure(style = DEFAULT_STYLE) {
  return { data: [], layout: planeLayout(true, style.font) };
}

// The lab plots' tick labels in the page's short form: at most 3 significant digits, "1.8e+304" beyond.
const SHORT_TICKS = { tickformat: ".3~g", exponentformat: "e" };

// False when the surface cannot be drawn: its span is below the precision of parameters this large (a
// diverged run), or its losses overflowed.
export function drawableSurface(surface) {
  const flat = (v) => v[v.length - 1] - v[0] <= 1e-9 * Math.max(Math.abs(v[0]), Math.abs(v[v.length - 1]));
  return !flat(surface.xs) && !flat(surface.ys) && surface.loss.every((row) => row.every(Number.isFinite));
}

export function surfaceFigure(surface, view, p1, p2) {
  const path = view.path;
  const { W, b } = view.state;
  const data = [
    {
      type: "contour", x: surface.xs, y: surface.ys, z: surface.loss, colorscale: "Viridis", reversescale: true,
      ncontours: 24, contours: { coloring: "heatmap", showlines: true }, line: { width: 0.5, color: "rgba(255,255,255,0.5)" },
      colorbar: { thickness: 10, title: { text: "L", side: "right" }, ...SHORT_TICKS },
      hovertemplate: `${p1} %{x:.4~g}<br>${p2} %{y:.4~g}<br>loss %{z:.4~g}<extra></extra>`,
    },
    {
      type: "scatter", mode: "lines+markers", x: path.map((p) => paramValue(p1, p.W, p.b)), y: path.map((p) => paramValue(p2, p.W, p.b)),
      line: { color: "#fff", width: 2 }, marker: { size: 3, color: "#fff" }, hoverinfo: "skip",
    },
    {
      type: "scatter", mode: "markers", x: [paramValue(p1, W, b)], y: [paramValue(p2, W, b)],
      marker: { size: 11, color: "#d9443a", line: { color: "#fff", width: 2 } }, hovertemplate: "current<extra></extra>",
    },
  ];
  const layout = {
    xaxis: { title: { text: p1, standoff: 2 }, range: [surface.xs[0], surface.xs[surface.xs.length - 1]], ...SHORT_TICKS },
    yaxis: { title: { text: p2, standoff: 2 }, range: [surface.ys[0], surface.ys[surface.ys.length - 1]], ...SHORT_TICKS },
    margin: { l: 64, r: 10, t: 8, b: 40 }, showlegend: false, paper_bgcolor: "rgba(0,0,0,0)",
  };
  return { data, layout };
}

export function sliceFigure(line, direction) {
  const along = direction === "gradient" ? "t along −∇L / |∇L|" : `change of ${direction}`;
  return {
    data: [{
      type: "scatter", mode: "lines", x: line.offsets, y: line.loss, line: { color: "#1f4e9c", width: 2 },
      hovertemplate: "t %{x:.4~g}<br>loss %{y:.4~g}<extra></extra>",
    }, {
      type: "scatter", mode: "markers", x: [0], y: [line.loss[Math.floor(line.loss.length / 2)]],
      marker: { size: 9, color: "#d9443a" }, hoverinfo: "skip",
    }],
    layout: {
      xaxis: { title: { text: along, standoff: 2 }, zeroline: false, ...SHORT_TICKS },
      yaxis: { title: { text: "loss", standoff: 2 }, ...SHORT_TICKS },
      margin: { l: 64, r: 10, t: 6, b: 36 }, showlegend: false, paper_bgcolor: "rgba(0,0,0,0)",
    },
  };
}
