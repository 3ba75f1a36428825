// Images drawn on canvases: the weight templates (redrawn every frame while training) and a grid of test
// images with their predicted labels. Views only: they draw what they are given.

// 0–255 values shaped [H][W] (grey) or [H][W][3] (colour) into a canvas of H×W pixels (CSS scales it up).
export function paint(canvas, image) {
  const h = image.length;
  const w = image[0].length;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  const out = ctx.createImageData(w, h);
  const px = out.data;
  let o = 0;
  for (let i = 0; i < h; i++) {
    const row = image[i];
    for (let j = 0; j < w; j++) {
      const v = row[j];
      if (typeof v === "number") {
        px[o] = px[o + 1] = px[o + 2] = v;
      } else {
        px[o] = v[0];
        px[o + 1] = v[1];
        px[o + 2] = v[2];
      }
      px[o + 3] = 255;
      o += 4;
    }
  }
  ctx.putImageData(out, 0, 0);
}

function figure(className, label, caption) {
  const fig = document.createElement("figure");
  fig.className = className;
  fig.setAttribute("role", "listitem");
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.append(canvas, cap);
  return { fig, canvas, cap };
}

// One canvas per class, built once per set of classes and repainted in place.
export class TemplateGrid {
  constructor(root) {
    this.root = root;
    this.key = "";
    this.canvases = [];
    this.drawn = 0; // templates frames painted (the frame-rate benchmark counts them)
  }

  draw(templates, classes) {
    const key = classes.join("|");
    if (key !== this.key) {
      this.key = key;
      const made = classes.map((name) => figure("template", `weight template of class ${name}`, name));
      this.canvases = made.map((m) => m.canvas);
      this.root.replaceChildren(...made.map((m) => m.fig));
    }
    templates.images.forEach((image, k) => paint(this.canvases[k], image));
    this.shown = templates;
    this.drawn++;
  }
}

// Test images with "true → predicted" under each; a mistake is marked by a dashed frame and ✗, not colour alone.
// Rebuilt only when the images shown or their predictions changed (null: none to show).
export class ImageGrid {
  constructor(root) {
    this.root = root;
    this.key = null;
  }

  draw(batch, classes) {
    const key = batch ? JSON.stringify([batch.indices, batch.predicted, classes]) : "";
    if (key === this.key) return;
    this.key = key;
    if (!batch) {
      this.root.replaceChildren();
      return;
    }
    const figures = batch.indices.map((index, i) => {
      const label = classes[batch.labels[i]];
      const predicted = classes[batch.predicted[i]];
      const right = batch.labels[i] === batch.predicted[i];
      const text = `${right ? "✓" : "✗"} ${predicted}${right ? "" : ` (is ${label})`}`;
      const spoken = `test image ${index}: a ${label}, classified as ${predicted}${right ? "" : ", wrong"}`;
      const { fig, canvas } = figure(right ? "sample" : "sample wrong", spoken, text);
      fig.title = `test image #${index}`;
      paint(canvas, batch.images[i]);
      return fig;
    });
    this.root.replaceChildren(...figures);
  }
}

const PASS = 1e-7;
const WARN = 1e-4;

function fmt(v) {
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(6) : v.toExponential(3);
}

// The sampled gradient check as a table, worst first, with a one-line verdict.
export function drawGradCheck(table, verdict, check) {
  const head = document.createElement("tr");
  for (const t of ["parameter", "analytic", "numerical", "rel. error"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t;
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  const rows = [...check.params].sort((a, b) => b.rel_error - a.rel_error).map((p) => {
    const tr = document.createElement("tr");
    for (const text of [p.name + (p.kink ? " ⚠" : ""), fmt(p.analytic), fmt(p.numerical), p.rel_error.toExponential(1)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.lastChild.className = p.rel_error < PASS ? "ok" : p.rel_error < WARN ? "warn" : "bad";
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  const bad = check.params.filter((p) => p.rel_error >= WARN && !p.kink).length;
  const kinks = check.params.filter((p) => p.kink).length;
  verdict.textContent = (bad
    ? `${bad} of ${check.params.length} sampled parameters disagree (worst relative error ${check.max_rel_error.toExponential(1)}).`
    : `The analytic gradient agrees at ${check.params.length} sampled parameters: worst relative error ${check.max_rel_error.toExponential(1)}.`)
    + (kinks ? ` ${kinks} sit on a hinge kink (⚠), where the loss has no derivative.` : "")
    + ` Centered differences with h = ${check.h}, ${check.precision} precision.`;
  verdict.className = "verdict " + (bad ? "bad" : "ok");
}
