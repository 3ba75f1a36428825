// A run that blows up, explained where the Start/Stop buttons are: why (the rule 2·λ·step size ≥ 2, or a
// step too large for the loss), and two one-click remedies. The server says when (`diverging`, long before
// `diverged`, the float overflow); the repeated update stops on either (player.js).

import { sessions } from "./api.js";
import { formatNumber, spoken } from "./format.js";

export const DIVERGED = "Diverged — lower the step size or reset.";

// The coefficient c of the regularization gradient c·λ·W the optimizer uses.
const regCoefficient = (state) => (state.optimizer !== "numerical" && state.reg_gradient === "original" ? 0.5 : 2);

// The explanation of a diverging state, in words a student follows.
export function explain(state) {
  const rise = `Diverging: the loss rose from ${formatNumber(state.lowest_loss)} to ${formatNumber(state.loss)} and keeps rising, so the run stopped.`;
  if (state.divergence_cause === "regularization") {
    const c = regCoefficient(state) === 2 ? "2" : "0.5";
    const product = Number(c) * state.reg * state.step_size;
    return `${rise} ${c}·λ·step size = ${c}·${spoken(state.reg)}·${spoken(state.step_size)} = ${spoken(product)} ≥ 2: ` +
      `the regularization's own update multiplies W by ${spoken(state.reg_factor).replace("-", "−")} every step, ` +
      "so W flips sign and grows.";
  }
  return `${rise} The step size ${spoken(state.step_size)} is too large for this loss: each step jumps past ` +
    "the minimum and lands higher on the other side.";
}

export class DivergenceCoach {
  // place: the message place beside Start/Stop; app: say / act / messages / view.
  constructor(place, app) {
    this.place = place;
    this.app = app;
    this.best = null; // { sid, W, b, loss }: the parameters at the lowest loss since the last change
  }

  // Called with every state drawn.
  update(state, sid) {
    if (!state.diverging && state.loss <= state.lowest_loss) this.best = { sid, W: state.W, b: state.b, loss: state.loss };
    const shown = this.place.querySelector(".remedies");
    if (state.diverged) {
      if (this.app.messages.textAt(this.place) !== DIVERGED) this.app.say(DIVERGED, "error", this.place);
    } else if (state.diverging) {
      if (!shown) this.#show(state);
    } else if (shown) {
      this.app.messages.clear(this.place);
    }
  }

  #show(state) {
    this.app.say(explain(state), "error", this.place);
    const remedies = document.createElement("span");
    remedies.className = "remedies";
    remedies.append(
      button("Halve the step size", "btn-halve", () => this.halve()),
      button("Restore the defaults", "btn-restore-defaults", () => this.app.restoreDefaults(this.place)),
    );
    this.place.append(" ", remedies);
    // Looking at the controls, with the remedies cut off at the bottom: bring them into view, not the toast.
    if (this.place.getBoundingClientRect().top >= 0 && this.place.getBoundingClientRect().top < innerHeight) {
      this.place.scrollIntoView({ block: "nearest" });
      this.app.messages.settle(this.place);
    }
  }

  // Half the step size, and the parameters back where the loss was lowest (before the run blew up), so that
  // Start continues from there instead of from parameters already far out.
  async halve() {
    const { app } = this;
    const state = app.view.state;
    const stepSize = state.step_size / 2;
    const best = this.best?.sid === app.sid ? this.best : null;
    const body = best ? { step_size: stepSize, W: best.W, b: best.b } : { step_size: stepSize };
    const answer = await app.act((id) => sessions.update(id, body), null, { where: this.place });
    if (answer && !best) await app.act((id) => sessions.reset(id, { params: "default" }), null, { where: this.place, replace: true });
    if (answer) {
      const back = best ? `where the loss was lowest (${formatNumber(best.loss)})` : "to the defaults";
      app.say(`Step size halved to ${spoken(stepSize)}, parameters put back ${back}. Press Start again.`, "info", this.place);
      // The message beside Start, scrolled into view as little as needed; the focus on Start (the button that
      // removed itself had it) without focus()'s own scrolling, which jumped the page; so no copy in the toast.
      this.place.scrollIntoView({ block: "nearest" });
      document.getElementById("btn-start").focus({ preventScroll: true });
      app.messages.settle(this.place);
    }
  }
}

function button(text, id, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.textContent = text;
  b.addEventListener("click", action);
  return b;
}
