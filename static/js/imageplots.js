// Pure figure builders for the image page: data in, Plotly {data, layout} out, new arrays every call (Plotly.react
// skips a redraw when the same arrays are mutated in place). The loss curve is plots.js's lossFigure.

const TRAIN = "#1f4e9c"; // blue, solid
const VAL = "#b34700"; // dark orange, dashed: line style tells them apart too, not colour alone

// Train and validation accuracy against the step; `points` are [step, train, val]. Drawn as plots.js draws the
// loss: a data layer with hidden axes, redrawn each time, over an axes layer redrawn only when `ranges` change.
export function accuracyFigure(points) {
  const steps = points.map((p) => p[0]);
  const last = steps.length ? steps[steps.length - 1] : 0;
  const trace = (i, name, color, dash) => ({
    type: "scatter", mode: points.length > 1 ? "lines" : "markers", x: steps, y: points.map((p) => p[i]), name,
    line: { color, width: 2, dash }, marker: { color, size: 6 },
    hovertemplate: `step %{x}<br>${name} %{y:.1%}<extra></extra>`,
  });
  const ranges = { x: [0, niceStep(last)] };
  return { data: [trace(1, "train", TRAIN, "solid"), trace(2, "validation", VAL, "dash")], layout: accuracyLayout(ranges, false), ranges };
}

export function accuracyAxesFigure(ranges) {
  return { data: [], layout: accuracyLayout(ranges, true) };
}

function accuracyLayout(ranges, axesShown) {
  const shared = { visible: axesShown, zeroline: false, fixedrange: true };
  return {
    xaxis: { ...shared, title: { text: "step", standoff: 4 }, range: ranges.x },
    yaxis: { ...shared, title: { text: "accuracy", standoff: 4 }, range: [0, 1.02], tickformat: ".0%" },
    showlegend: false, margin: { l: 56, r: 10, t: 8, b: 40 }, hovermode: "closest",
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  };
}

// 1, 2, 5 × 10^k at or above v (at least 10): the step axis grows in jumps, not every frame.
function niceStep(v) {
  const top = Math.max(v, 10);
  const p = 10 ** Math.floor(Math.log10(top));
  for (const m of [1, 2, 5, 10]) if (m * p >= top) return m * p;
  return 10 * p;
}

const BLUES = [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1, "#08306b"]]; // ColorBrewer

// The confusion matrix as a heatmap with the counts written in: rows the true class (top to bottom), columns
// the predicted one. A sequential scale (light to dark blue) reads the same to colour-blind eyes.
export function confusionFigure(evaluation, classes) {
  const z = evaluation.confusion.map((row) => row.slice());
  const top = Math.max(1, ...z.flat());
  const labels = classes.map((c) => String(c));
  const long = labels.some((l) => l.length > 2); // CIFAR-10's names: slanted, with room for them
  return {
    data: [{
      type: "heatmap", z, x: labels, y: labels, zmin: 0, zmax: top, colorscale: BLUES, showscale: false, xgap: 1, ygap: 1,
      text: z.map((row) => row.map(String)), texttemplate: "%{text}", textfont: { size: classes.length > 10 ? 9 : 11 },
      hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>",
    }],
    layout: {
      xaxis: { title: { text: "predicted", standoff: 4 }, type: "category", side: "bottom", fixedrange: true, tickangle: long ? -45 : 0 },
      yaxis: { title: { text: "true class", standoff: 4 }, type: "category", autorange: "reversed", fixedrange: true },
      margin: { l: long ? 86 : 48, r: 8, t: 8, b: long ? 96 : 48 }, paper_bgcolor: "rgba(0,0,0,0)",
    },
  };
}
