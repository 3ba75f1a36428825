// The optimization lab's panels: the gradient check, and the loss surface with the optimizer's path and the
// 1-D slice along the negative gradient or one parameter. Reads only; they never change the session.

import { sessions } from "./api.js";
import { formatNumber } from "./format.js";
import { paramNames } from "./state.js";
import { drawableSurface, sliceFigure, surfaceFigure } from "./plots.js";

const PASS = 1e-7;
const WARN = 1e-4;
const SURFACE_N = 61;
const GAP = 250; // ms between two surface refreshes at least
const RUNNING_GAP = 1000; // the same while the repeated update runs

// Six decimals, more than elsewhere on the page: a check compares the digits of two gradients.
function fmt(v) {
  return Math.abs(v) >= 1e-3 || v === 0 ? formatNumber(v, 6) : v.toExponential(2);
}
const relText = (v) => (v === 0 ? "0" : v.toExponential(1));
const GRADES = [["ok", "✓"], ["warn", "~"], ["bad", "✗"]]; // a sign beside the colour: not colour alone

export class GradCheckPanel {
  constructor({ table, verdict }) {
    this.table = table;
    this.verdict = verdict;
  }

  async run(sid, state) {
    const check = await sessions.gradcheck(sid);
    const head = document.createElement("tr");
    for (const t of ["param", "analytic", "numerical", "rel. error"]) {
      const th = document.createElement("th");
      th.textContent = t;
      head.append(th);
    }
    this.table.tHead.replaceChildren(head);
    const rows = check.params.map((p) => {
      const tr = document.createElement("tr");
      const [grade, sign] = GRADES[p.rel_error < PASS ? 0 : p.rel_error < WARN ? 1 : 2];
      const cells = [p.name + (p.kink ? " ⚠" : ""), fmt(p.analytic), fmt(p.numerical), `${sign} ${relText(p.rel_error)}`];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      const rel = tr.lastChild;
      rel.className = grade;
      if (p.kink) tr.title = "a point sits on a hinge kink: the loss has no derivative here, the two can disagree";
      return tr;
    });
    this.table.tBodies[0].replaceChildren(...rows);
    this.verdict.textContent = verdict(check, state);
    this.verdict.className = "verdict " + (check.max_rel_error < PASS ? "ok" : "bad");
    return check;
  }
}

function verdict(check, state) {
  const bad = check.params.filter((p) => p.rel_error >= WARN && !p.kink);
  const kinks = check.params.filter((p) => p.kink).length;
  const kinkNote = kinks ? ` ${kinks} parameter(s) sit on a hinge kink (⚠), where the loss has no derivative: ` +
    "there the two may disagree, and say nothing about the code." : "";
  if (!bad.length) {
    // the worst error where the loss has a derivative: the kinks' own errors are no verdict on the gradient
    const worst = Math.max(0, ...check.params.filter((p) => !p.kink).map((p) => p.rel_error));
    return `The analytic gradient is correct: worst relative error ${relText(worst)}${kinks ? " away from the kinks" : ""}.` + kinkNote;
  }
  const names = bad.map((p) => p.name).join(", ");
  if (state.reg_gradient === "original" && state.reg > 0 && bad.every((p) => p.name.startsWith("W"))) {
    return `Wrong for ${names}: the original demo's regularization gradient 0.5λW is 4× smaller than the true ` +
      `derivative 2λW of λΣW². The biases, which are not regularized, pass. Switch to "exact" under Advanced.` + kinkNote;
  }
  return `The gradients of ${names} disagree with the numerical estimate.` + kinkNote;
}

export class SurfacePanel {
  // running(): whether the repeated update runs (the surface is then refreshed less often)
  constructor({ p1, p2, span, toggle, direction, surfaceDiv, sliceDiv, note, running = () => false }) {
    Object.assign(this, { p1, p2, span, toggle, direction, surfaceDiv, sliceDiv, note, running });
    this.wanted = null; // [sid, view] still to draw
    this.pending = null; // the running refresh
    this.lastEnd = -Infinity; // performance.now() when the last refresh ended
    this.took = 0; // ms the last refresh took
    this.classes = 0;
  }

  get shown() {
    return this.toggle.checked;
  }

  fillChoices(classes) {
    if (classes === this.classes) return;
    this.classes = classes;
    const names = paramNames(classes);
    for (const [select, initial] of [[this.p1, "W[0,0]"], [this.p2, "b[1]"]]) {
      const keep = names.includes(select.value) ? select.value : initial;
      select.replaceChildren(...names.map((n) => new Option(n, n)));
      select.value = keep;
    }
    const keep = names.includes(this.direction.value) ? this.direction.value : "gradient";
    this.direction.replaceChildren(new Option("the negative gradient", "gradient"), ...names.map((n) => new Option(n, n)));
    this.direction.value = keep;
  }

  // Redraw for the current state, off the drawing path: one refresh at a time, the next one at least GAP ms
  // after the last; while the repeated update runs, RUNNING_GAP ms and six times what the last one took
  // (request and drawing): the surface then takes a small share of the page's time and training keeps its pace. The promise settles when the state asked for (or a later one) is drawn; renders never
  // wait for it.
  refresh(sid, view) {
    if (!this.shown) return Promise.resolve();
    this.wanted = [sid, view];
    this.pending ??= this.#drawWanted().finally(() => { this.pending = null; });
    return this.pending;
  }

  async #drawWanted() {
    while (this.wanted) {
      for (;;) { // the pause depends on whether the update runs, which may change while waiting
        const [gap, times] = this.running() ? [RUNNING_GAP, 6] : [GAP, 0];
        const wait = this.lastEnd + Math.max(gap, times * this.took) - performance.now();
        if (wait <= 0) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, GAP)));
      }
      if (!this.wanted || !this.shown) return;
      const [sid, view] = this.wanted;
      this.wanted = null;
      const t0 = performance.now();
      try {
        await this.#draw(sid, view);
      } finally {
        this.lastEnd = performance.now();
        this.took = this.lastEnd - t0;
      }
    }
  }

  async #draw(sid, view) {
    const p1 = this.p1.value;
    const p2 = this.p2.value === p1 ? this.p1.options[(this.p1.selectedIndex + 1) % this.p1.options.length].value : this.p2.value;
    const span = Math.min(Math.max(Number(this.span.value) || 3, 0.1), 1000);
    const [surface, line] = await Promise.all([
      sessions.surface(sid, p1, p2, span, SURFACE_N), sessions.line(sid, this.direction.value, span, 101),
    ]);
    if (!this.shown) return;
    if (drawableSurface(surface)) {
      this.note(null);
      const fig = surfaceFigure(surface, view, p1, p2);
      Plotly.react(this.surfaceDiv, fig.data, fig.layout, { displayModeBar: false, responsive: true });
      const slice = sliceFigure(line, this.direction.value);
      Plotly.react(this.sliceDiv, slice.data, slice.layout, { displayModeBar: false, responsive: true });
    } else {
      this.note(`At parameters this large, a span of ±${span} is below the precision of the numbers: reset the parameters to see the surface again.`);
      this.clear();
    }
  }

  clear() {
    for (const div of [this.surfaceDiv, this.sliceDiv]) if (div.data) Plotly.purge(div);
  }
}
