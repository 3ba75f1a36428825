// The data table: x[0] | x[1] | y | s[0] … s[K−1] | L per point, L framed green when 0 and red otherwise,
// the mean of L below. Cells are rebuilt only when N or K changes; otherwise only changed texts are written.

import { TINTS } from "./state.js";
import { fixed2, setText } from "./controls.js";

const MAX_ROWS = 100; // beyond this the table shows an evenly spaced sample of the points

export class DataTable {
  constructor(table, note) {
    this.table = table;
    this.note = note;
    this.shape = "";
    this.rows = [];
  }

  #build(K, rowsShown) {
    const head = this.table.tHead;
    const body = this.table.tBodies[0];
    const foot = this.table.tFoot;
    const tr = document.createElement("tr");
    for (const t of ["x[0]", "x[1]", "y", ...Array.from({ length: K }, (_, k) => `s[${k}]`), "L"]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = t;
      tr.append(th);
    }
    head.replaceChildren(tr);
    this.rows = [];
    const rows = [];
    for (let r = 0; r < rowsShown; r++) {
      const row = document.createElement("tr");
      const cells = Array.from({ length: K + 4 }, () => document.createElement("td"));
      cells.forEach((_, k) => { if (k >= 3 && k < 3 + K) cells[k].style.background = TINTS[(k - 3) % TINTS.length]; });
      cells[K + 3].className = "loss";
      row.append(...cells);
      rows.push(row);
      this.rows.push({ cells, label: -1 });
    }
    body.replaceChildren(...rows);
    const mean = document.createElement("tr");
    const spacer = document.createElement("td");
    spacer.colSpan = K + 3;
    spacer.textContent = "mean:";
    this.meanCell = document.createElement("td");
    mean.append(spacer, this.meanCell);
    foot.replaceChildren(mean);
  }

  update(state) {
    const { X, y, scores, losses } = state;
    if (!X || !scores) return;
    const K = state.W.length;
    const N = X.length;
    const shown = Math.min(N, MAX_ROWS);
    if (this.shape !== `${N}x${K}`) {
      this.#build(K, shown);
      this.shape = `${N}x${K}`;
      this.note.textContent = N > MAX_ROWS ? `Showing ${shown} of ${N} points, evenly spaced.` : "";
    }
    let sum = 0;
    for (const L of losses) sum += L;
    for (let r = 0; r < shown; r++) {
      const i = shown === N ? r : Math.floor((r * N) / shown);
      const { cells } = this.rows[r];
      setText(cells[0], fixed2(X[i][0]));
      setText(cells[1], fixed2(X[i][1]));
      setText(cells[2], String(y[i]));
      if (this.rows[r].label !== y[i]) {
        cells[2].style.background = TINTS[y[i] % TINTS.length];
        this.rows[r].label = y[i];
      }
      for (let k = 0; k < K; k++) setText(cells[3 + k], fixed2(scores[i][k]));
      setText(cells[3 + K], fixed2(losses[i]));
      cells[3 + K].classList.toggle("zero", losses[i] === 0);
    }
    setText(this.meanCell, fixed2(sum / N));
  }
}
