// The gradient check's result belongs to the state it was run on: after any change (a step, an edit of the
// parameters or data, a setting, the regularization gradient's mode, a reset) it is marked stale — dimmed and
// with a text mark, not colour alone — until it is run again.

export class StaleMark {
  constructor(panel, mark) {
    this.panel = panel; // the element dimmed while stale
    this.mark = mark; // the text mark, hidden while fresh
    this.checked = null; // the revision the shown result was computed at (null: no result shown)
  }

  // A result was just shown, computed at `revision`.
  fresh(revision) {
    this.checked = revision;
    this.follow(revision);
  }

  // Called with the session's current revision whenever the page draws.
  follow(revision) {
    const stale = this.checked !== null && revision !== this.checked;
    if (this.mark.hidden === !stale) return;
    this.mark.hidden = !stale;
    this.panel.classList.toggle("stale", stale);
  }
}
