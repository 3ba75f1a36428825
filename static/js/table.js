// The data table: x[0] | x[1] | y | s[0] … s[K−1] | L per point, the mean of L below. A zero L is filled and
// ticked, a positive one framed (not colour alone). The L column and the mean are sticky, so that they stay in
// view when many classes make the table scroll sideways. Cells are rebuilt only when N, K or the palette
// change; otherwise only changed texts are written. While the repeated update runs on large data the frames
// carry no per-example arrays: the table is then marked "paused until Stop" (dimmed, and said in the note).

import { fixed2 } from "./format.js";
import { pick, shapeIcon } from "./palette.js";
import { setText } from "./controls.js";

const MAX_ROWS = 100; // beyond this the table shows an evenly spaced sample of the points
// A loss above 0 that two decimals would show as "0.00" (in the red frame of a positive loss, beside the ticked
// "0.00" of a zero one) is shown as what it is: below 0.01.
const lossText = (L) => (L > 0 && L < 0.005 ? "<0.01" : fixed2(L));
const PAUSED = "Paused until Stop: the rows and their mean are those from before the run (the totals below are live).";

export class DataTable {
  constructor(table, note) {
    this.table = table;
    this.note = note;
    this.shape = "";
    this.rows = [];
    this.sample = "";
    // Whether columns scroll beneath the sticky L column (see app.css), read after layout, when a size changes.
    const wrap = table.parentElement;
    const sizes = new ResizeObserver(() => wrap.classList.toggle("overflowing", wrap.scrollWidth > wrap.clientWidth + 1));
    sizes.observe(table);
    sizes.observe(wrap);
  }

  #build(K, rowsShown, colors) {
    const tr = document.createElement("tr");
    for (const t of ["x[0]", "x[1]", "y", ...Array.from({ length: K }, (_, k) => `s[${k}]`), "L"]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = t;
      tr.append(th);
    }
    tr.lastChild.className = "loss-col";
    this.table.tHead.replaceChildren(tr);
    this.rows = [];
    const rows = [];
    for (let r = 0; r < rowsShown; r++) {
      const row = document.createElement("tr");
      const cells = Array.from({ length: K + 4 }, () => document.createElement("td"));
      for (let k = 0; k < K; k++) cells[3 + k].style.background = pick(colors.tint, k);
      cells[2].className = "label";
      cells[K + 3].className = "loss loss-col";
      row.append(...cells);
      rows.push(row);
      this.rows.push({ cells, label: -1 });
    }
    this.table.tBodies[0].replaceChildren(...rows);
    const mean = document.createElement("tr");
    const spacer = document.createElement("td");
    spacer.colSpan = K + 3;
    const cell = document.createElement("td");
    cell.className = "loss-col";
    const label = document.createElement("span");
    label.className = "mean-label";
    label.textContent = "mean";
    this.meanValue = document.createElement("span");
    cell.append(label, this.meanValue);
    mean.append(spacer, cell);
    this.table.tFoot.replaceChildren(mean);
  }

  // paused: the state's per-example arrays are those of an earlier state (see View.summary).
  update(state, colors, { paused = false } = {}) {
    const { X, y, scores, losses } = state;
    if (!X || !scores) return;
    this.table.classList.toggle("paused", paused);
    const K = state.W.length;
    const N = X.length;
    const shown = Math.min(N, MAX_ROWS);
    const shape = `${N}x${K}x${colors.name}`;
    if (this.shape !== shape) {
      this.#build(K, shown, colors);
      this.shape = shape;
      this.colors = colors;
      this.sample = N > MAX_ROWS ? `Showing ${shown} of ${N} points, evenly spaced.` : "";
    }
    setText(this.note, paused ? `${PAUSED} ${this.sample}`.trim() : this.sample);
    this.note.classList.toggle("paused", paused);
    if (paused) return;
    let sum = 0;
    for (const L of losses) sum += L;
    for (let r = 0; r < shown; r++) {
      const i = shown === N ? r : Math.floor((r * N) / shown);
      const { cells } = this.rows[r];
      setText(cells[0], fixed2(X[i][0]));
      setText(cells[1], fixed2(X[i][1]));
      if (this.rows[r].label !== y[i]) {
        cells[2].replaceChildren(shapeIcon(y[i], colors), String(y[i]));
        cells[2].style.background = pick(colors.tint, y[i]);
        this.rows[r].label = y[i];
      }
      for (let k = 0; k < K; k++) setText(cells[3 + k], fixed2(scores[i][k]));
      setText(cells[3 + K], lossText(losses[i]));
      cells[3 + K].classList.toggle("zero", losses[i] === 0);
    }
    setText(this.meanValue, lossText(sum / N));
  }
}
