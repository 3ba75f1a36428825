// The changes of a run on the loss curve: a thin dashed vertical rule at each change's step with a short label
// ("λ 0.1", "η 10" for the step size (not "step 10", on an axis of step numbers), "loss softmax", "gd→sgd", "data",
// "params"). Pure: changes in, Plotly shapes and annotations out. They go on the curve's axes layer, which is
// redrawn only when its ranges or these marks change, so that they cost the repeated update nothing.
//
// Several changes at one step share a rule and a label. Labels sit in two rows at the top of the plot; a label
// that would overlap its neighbours in both rows is left out (its rule stays), the latest changes first. When
// the rules themselves would crowd closer than RULE_GAP pixels, evenly spaced ones are kept, the latest always.

import { spoken } from "./format.js";

const INK = "#57606a"; // grey ink: no class or optimizer colour, so colour means nothing here
const RULE_GAP = 3; // px between rules at least
const ROWS = 2;
const LOSS_NAMES = { svm_ww: "WW SVM", svm_ova: "OvA SVM", svm_structured: "CS SVM", softmax: "softmax" };
const OPTIMIZER_SHORT = { gd: "gd", sgd: "sgd", numerical: "num", random_search: "search" };

// The label of one change; `before` is the optimizer in use before it (for "gd→sgd").
export function changeLabel({ what, value }, before = null) {
  switch (what) {
    case "reg": return `λ ${spoken(value)}`;
    case "step_size": return `η ${spoken(value)}`;
    case "loss_type": return `loss ${LOSS_NAMES[value] ?? value}`;
    case "optimizer": return before && before !== value
      ? `${OPTIMIZER_SHORT[before]}→${OPTIMIZER_SHORT[value]}` : `opt ${OPTIMIZER_SHORT[value] ?? value}`;
    case "reg_gradient": return value === "original" ? "0.5λW" : "2λW";
    case "batch_size": return `batch ${value}`;
    case "h": return `h ${spoken(value)}`;
    case "search_scale": return `scale ${spoken(value)}`;
    case "test_data": return "test data";
    default: return what; // "data", "params"
  }
}

// The optimizer in use just before `step`, from the history's segments.
function optimizerBefore(segments, step) {
  let before = null;
  for (const seg of segments) if (seg.start < step) before = seg.optimizer;
  return before;
}

// { shapes, annotations, key } for the changes inside the x range, on a plot `width` px wide (the data area).
export function changeMarks(changes, segments, xRange, width, font) {
  const [x0, x1] = xRange;
  const groups = [];
  for (const change of changes ?? []) {
    if (change.step < x0 || change.step > x1) continue;
    const label = changeLabel(change, change.what === "optimizer" ? optimizerBefore(segments, change.step) : null);
    const last = groups[groups.length - 1];
    if (last && last.step === change.step) {
      if (!last.labels.includes(label)) last.labels.push(label);
    } else {
      groups.push({ step: change.step, labels: [label] });
    }
  }
  const px = (step) => ((step - x0) / (x1 - x0)) * width;
  const kept = thin(groups, width);
  const size = Math.round(font * 0.8);
  const rows = Array.from({ length: ROWS }, () => []); // occupied [from, to] px intervals per row
  const annotations = [];
  for (let g = kept.length - 1; g >= 0; g--) {
    const { step, labels } = kept[g];
    const text = labels.join(", ");
    const w = text.length * size * 0.58 + 8;
    const at = px(step);
    const right = at + w > width; // near the right edge the label hangs to the left of its rule
    const span = right ? [at - w, at] : [at, at + w];
    const row = rows.findIndex((taken) => taken.every(([a, b]) => span[1] + 4 <= a || span[0] >= b + 4));
    if (row < 0) continue;
    rows[row].push(span);
    annotations.push({
      x: step, xref: "x", y: 1, yref: "paper", yanchor: "top", xanchor: right ? "right" : "left",
      yshift: -row * (size + 6), text, showarrow: false, font: { size, color: "#1f2328" },
      bgcolor: "rgba(255,255,255,0.85)", borderpad: 1,
    });
  }
  const shapes = kept.map(({ step }) => ({
    type: "line", xref: "x", yref: "paper", x0: step, x1: step, y0: 0, y1: 1, layer: "above",
    line: { color: INK, width: 1, dash: "dash" },
  }));
  return { shapes, annotations, key: JSON.stringify([kept, Math.round(width), font]) };
}

// At most one rule per RULE_GAP px: evenly spaced groups, the latest kept.
function thin(groups, width) {
  const room = Math.max(1, Math.floor(width / RULE_GAP));
  if (groups.length <= room) return groups;
  const every = Math.ceil(groups.length / room);
  return groups.filter((_, i) => (groups.length - 1 - i) % every === 0);
}
