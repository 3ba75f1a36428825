// The loss curve's figures (pure: view in, Plotly {data, layout} out), drawn as two layers like the plane: an
// axes layer redrawn only when `ranges` change, and a data layer redrawn every frame.
//
// What the axes must survive: a log scale with zero losses (a log axis has no 0: they are drawn on the axis
// floor and marked ▼), and overflowing runs (losses above CEILING are drawn at it and marked ▲). Every tick
// label is ours, in the page's number format, so none is wider than 8 characters or reads "100µ".

import { formatTick } from "./format.js";

export const OPTIMIZER_COLORS = { gd: "#1f4e9c", sgd: "#b3261e", numerical: "#7b4fc9", random_search: "#9a5b00" };
export const OPTIMIZER_NAMES = { gd: "gradient descent", sgd: "minibatch SGD", numerical: "numerical gradient", random_search: "random search" };
export const TEST_COLOR = "#3b4048"; // the test curve: dark grey, dotted (told apart by its dash, not its hue)
export const CEILING = 1e300; // losses above this are drawn at it: Plotly's axis arithmetic needs headroom
const MAX_DRAWN = 4000; // history points drawn per curve at most (every value stays in the session)
const MAX_MARKS = 40; // ▼/▲ marks at most
const PAD = 0.03; // of each axis's span, around the data: no point sits on a frame, the origin's labels part

// The curve, one trace per stretch of history made by one optimizer. The ranges grow in "nice" steps
// (1, 2, 5 × 10^k) so that the axes layer is redrawn only now and then, not every frame.
export function lossFigure(view, logY, { font = 14 } = {}) {
  const { history, historyStart } = view;
  const segments = view.state.segments;
  const end = historyStart + history.length - 1;
  const stride = Math.max(1, Math.ceil(history.length / MAX_DRAWN));
  let lo = Infinity;
  let hi = -Infinity;
  let zeros = 0;
  let over = 0;
  for (let i = 0; i < history.length; i += stride) {
    const v = history[i];
    if (v > CEILING) over++;
    else if (logY && v <= 0) zeros++;
    else { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  const tests = view.testHistory;
  if (tests) {
    for (let i = 0; i < tests.length; i += stride) {
      const v = tests[i];
      if (v !== null && v <= CEILING && !(logY && v <= 0)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
  }
  if (over) hi = CEILING;
  const y = yRange(lo, hi, logY);
  const floor = logY ? 10 ** Math.ceil(y[0]) : null; // where zeros are drawn: the lowest decade line
  const ranges = { x: xRange(historyStart, end), y, logY, font, labels: 0 };
  const data = [];
  const marks = { "triangle-down": { x: [], y: [] }, "triangle-up": { x: [], y: [] } };
  segments.forEach((seg, s) => {
    const from = Math.max(seg.start, historyStart);
    const to = Math.min(s + 1 < segments.length ? segments[s + 1].start : end, end);
    if (to < from) return;
    const xs = [];
    const ys = [];
    const add = (step) => {
      let v = history[step - historyStart];
      if (v > CEILING) { v = CEILING; mark(marks["triangle-up"], step, v); }
      else if (logY && v <= 0) { v = floor; mark(marks["triangle-down"], step, v); }
      xs.push(step);
      ys.push(v);
    };
    for (let step = from; step <= to; step += stride) add(step);
    if (xs[xs.length - 1] !== to) add(to);
    const color = OPTIMIZER_COLORS[seg.optimizer];
    data.push({
      type: "scatter", mode: xs.length > 1 ? "lines" : "markers", x: xs, y: ys, name: OPTIMIZER_NAMES[seg.optimizer],
      line: { color, width: 2 }, marker: { color, size: 8 }, cliponaxis: false,
      hovertemplate: "step %{x}<br>loss %{y:.3~g}<extra>%{fullData.name}</extra>",
    });
  });
  if (tests) data.push(testTrace(tests, historyStart, stride, logY));
  const shown = Object.entries(marks).filter(([, m]) => m.x.length);
  if (shown.length) data.push(markTrace(shown, font));
  ranges.labels = widestLabel(ranges.y, logY); // the left margin follows it
  const note = [
    zeros ? "Zero losses have no place on a log scale: they are drawn at its bottom (▼)." : "",
    over ? `Losses above ${formatTick(CEILING)} are drawn at ${formatTick(CEILING)} (▲).` : "",
  ].filter(Boolean).join(" ");
  return { data, layout: lossLayout(ranges, false), ranges, note };
}

// The test set's mean data loss after each step (gaps where there was no test set), dotted.
function testTrace(tests, start, stride, logY) {
  const xs = [];
  const ys = [];
  const add = (i) => {
    const v = tests[i];
    xs.push(start + i);
    ys.push(v === null || v > CEILING || (logY && v <= 0) ? null : v);
  };
  for (let i = 0; i < tests.length; i += stride) add(i);
  if (tests.length && xs[xs.length - 1] !== start + tests.length - 1) add(tests.length - 1);
  return {
    type: "scatter", mode: xs.length > 1 ? "lines" : "markers", x: xs, y: ys, name: "test data loss",
    line: { color: TEST_COLOR, width: 2, dash: "dot" }, marker: { color: TEST_COLOR, size: 7, symbol: "circle-open" },
    cliponaxis: false, hovertemplate: "step %{x}<br>test data loss %{y:.3~g}<extra></extra>",
  };
}

function mark(marks, step, v) {
  marks.x.push(step);
  marks.y.push(v);
}

// One trace of ▼ and ▲ marks, each kind thinned to MAX_MARKS evenly spaced ones, its last always kept.
function markTrace(kinds, font) {
  const trace = { x: [], y: [], symbol: [] };
  for (const [symbol, { x, y }] of kinds) {
    const every = Math.ceil(x.length / MAX_MARKS);
    x.forEach((_, i) => {
      if (i % every !== 0 && i !== x.length - 1) return;
      trace.x.push(x[i]);
      trace.y.push(y[i]);
      trace.symbol.push(symbol);
    });
  }
  return {
    type: "scatter", mode: "markers", x: trace.x, y: trace.y, hoverinfo: "skip", cliponaxis: false,
    marker: { symbol: trace.symbol, size: Math.round(font * 0.7), color: "#1f2328" },
  };
}

function xRange(start, end) {
  const span = niceCeil(Math.max(end - start, 10));
  return [start - PAD * span, start + span * (1 + PAD)];
}

function yRange(lo, hi, logY) {
  if (!(lo <= hi)) return logY ? [-3 - PAD * 3, 0] : [-PAD, 1]; // nothing drawable (a log axis of zero losses)
  if (logY) {
    const bottom = Math.floor(Math.log10(lo));
    const top = Math.max(Math.ceil(Math.log10(hi)), bottom + 1);
    return [bottom - PAD * (top - bottom) * 2, top + PAD * (top - bottom)];
  }
  const top = Math.min(niceCeil(hi * 1.02), CEILING * 2);
  const bottom = Math.min(0, lo);
  return [bottom - PAD * (top - bottom), top + PAD * (top - bottom)];
}

// The smallest of 1, 2, 5 × 10^k that is ≥ v (v > 0).
export function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

let widest = { key: "", chars: 0 }; // of the last y range: the same for many frames in a row
function widestLabel(range, log) {
  const key = `${range}${log}`;
  if (widest.key !== key) widest = { key, chars: Math.max(...ticks(range, 4, log).text.map((t) => t.length)) };
  return widest.chars;
}

// Round tick values with their labels: about `count` on a linear axis, whole decades on a log axis.
function ticks([lo, hi], count, log) {
  const vals = [];
  if (log) {
    const every = Math.max(1, niceCeil((hi - lo) / 6)); // decades between ticks: 1, 2, 5, 10, 20, 50, …
    for (let e = Math.ceil(lo / every) * every; e <= hi; e += every) vals.push(10 ** e);
  } else {
    const step = niceCeil((hi - lo) / count);
    for (let i = Math.ceil(lo / step); i * step <= hi * (1 + 1e-12); i++) vals.push(i * step);
  }
  return { vals, text: vals.map((v) => formatTick(Number(v.toPrecision(12)))) };
}

function axisTicks(ranges) {
  return { x: ticks(ranges.x, 6, false), y: ticks(ranges.y, 4, ranges.logY) };
}

// As on the plane, the data layer's hidden axes carry only the geometry: ranges, axis type and margins.
function lossLayout(ranges, axesShown) {
  const { font } = ranges;
  const left = Math.round(ranges.labels * font * 0.62 + font * 1.6 + 12);
  const layout = {
    xaxis: { range: ranges.x, visible: axesShown, fixedrange: true },
    yaxis: { range: ranges.y, visible: axesShown, fixedrange: true, type: ranges.logY ? "log" : "linear" },
    margin: { l: left, r: 12, t: 8, b: Math.round(font * 2.6 + 10) }, showlegend: false, hovermode: "closest",
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  };
  if (!axesShown) return layout;
  const { x, y } = axisTicks(ranges);
  const shown = {
    zeroline: false, ticks: "outside", ticklen: 4, tickmode: "array", tickfont: { size: font }, automargin: false,
    showline: true, linecolor: "#8a9099", mirror: false,
  };
  Object.assign(layout.xaxis, shown, { tickvals: x.vals, ticktext: x.text, title: { text: "step", standoff: 4, font: { size: font } } });
  Object.assign(layout.yaxis, shown, { tickvals: y.vals, ticktext: y.text, title: { text: "total loss", standoff: 6, font: { size: font } } });
  layout.font = { size: font, color: "#1f2328" };
  return layout;
}

// The loss curve's axes layer, for the given ranges.
export function lossAxesFigure(ranges) {
  return { data: [], layout: lossLayout(ranges, true) };
}
