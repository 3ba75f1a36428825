// The image page's client-side state: the experiment as the page knows it, and what each optimizer reached
// here, for the lecture's table. No drawing, no requests.

export const OPTIMIZERS = ["random_search", "numerical", "gd", "sgd"];

// The optimizer that took the last step (null before any): the state's cost figures are that step's, while its
// `optimizer` is the one chosen now, which may not have stepped yet. Each segment starts where one was chosen.
export function lastStepOptimizer(state) {
  if (!state.taken || !state.step) return null;
  return state.segments.filter((seg) => seg.start < state.step).at(-1)?.optimizer ?? null;
}

// The steps `optimizer` took: each segment runs from its start to the next one's (the last to the current step).
export function stepsBy(state, optimizer) {
  const segments = state.segments;
  return segments.reduce((n, seg, i) => n + (seg.optimizer === optimizer ? (segments[i + 1]?.start ?? state.step) - seg.start : 0), 0);
}

// The latest state, the whole loss history and every accuracy point.
export class ExperimentView {
  constructor(state) {
    this.state = state;
    this.history = state.history.slice();
    this.historyStart = state.history_start;
    this.accuracy = state.accuracy.slice();
  }

  // A step or edit answer holds only what it added; false if it does not follow on (then reload).
  merge(state) {
    const offset = state.history_start - this.historyStart;
    if (offset < 0 || offset > this.history.length) return false;
    this.history = this.history.slice(0, offset).concat(state.history);
    const last = this.accuracy.length ? this.accuracy[this.accuracy.length - 1][0] : -1;
    this.accuracy = this.accuracy.concat(state.accuracy.filter((a) => a[0] > last));
    this.state = { ...state, templates: state.templates ?? this.state.templates };
    return true;
  }
}

const pct = (v) => `${(100 * v).toFixed(1)} %`;

// Per optimizer: the test accuracy after its steps, and what one of its steps cost.
export class Results {
  constructor() {
    this.by = {};
  }

  clear() {
    this.by = {};
  }

  noteStep(state) {
    const optimizer = lastStepOptimizer(state);
    if (!optimizer) return;
    Object.assign((this.by[optimizer] ??= {}), { evals: state.loss_evals, ms: 1000 * state.step_seconds, batch: state.batch_size });
  }

  // The test accuracy after `optimizer`'s last step: the model's, so it owes something to any optimizer before it.
  noteAccuracy(optimizer, accuracy, state) {
    if (state.step > 0 && optimizer) Object.assign((this.by[optimizer] ??= {}), { accuracy, steps: stepsBy(state, optimizer), total: state.step });
  }

  // The "Here" cell of the lecture table, or null before the optimizer has run.
  text(optimizer, dataset) {
    const o = this.by[optimizer];
    if (!o) return null;
    const parts = [];
    if (o.accuracy !== undefined) {
      const count = (n) => n.toLocaleString("en");
      const others = o.total > o.steps ? ` (${count(o.total)} in all)` : "";
      parts.push(`${pct(o.accuracy)} test after ${count(o.steps)} of its steps${others}`);
    }
    if (o.evals !== undefined) {
      const batch = optimizer === "sgd" ? ` on ${o.batch} images` : "";
      parts.push(`${o.evals.toLocaleString("en")} loss evaluation${o.evals > 1 ? "s" : ""}${batch}, ${o.ms.toFixed(o.ms < 10 ? 2 : 0)} ms a step`);
    }
    return `${dataset}: ${parts.join("; ")}`;
  }
}

export { pct };
