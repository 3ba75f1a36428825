// A value that can be typed: a button showing the formatted number; a click (or Enter / Space when focused)
// turns it into a text field holding the exact value. Enter or leaving the field sets it, Escape cancels.
// An invalid entry keeps the field open, marked invalid, and says why through onError.

import { formatNumber } from "./format.js";

export class NumberEdit {
  // button: the <button> to turn into a field; name: what it is ("Step size", "W[0,1]"); min / max: the
  // accepted range; decimals: of the shown value; onCommit(value); onError(message) (null clears it).
  constructor(button, { name, min, max, decimals = 2, onCommit, onError }) {
    Object.assign(this, { button, name, min, max, decimals, onCommit, onError });
    this.value = null;
    this.input = null;
    button.classList.add("num-edit");
    button.addEventListener("click", () => this.open());
  }

  show(value) {
    if (value === this.value) return;
    this.value = value;
    const text = formatNumber(value, this.decimals);
    if (this.button.textContent !== text) this.button.textContent = text;
    this.button.classList.toggle("long", text.length >= 8);
    this.button.setAttribute("aria-label", `${this.name} ${text}: type a value`);
  }

  open() {
    if (this.input) return;
    const input = document.createElement("input");
    Object.assign(input, { type: "text", inputMode: "decimal", className: "num-input", value: String(this.value ?? "") });
    input.setAttribute("aria-label", `${this.name}, from ${this.min} to ${this.max}`);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); this.#commit(true); }
      if (e.key === "Escape") { e.preventDefault(); this.#close(true); }
    });
    input.addEventListener("blur", () => this.#commit(false));
    this.input = input;
    this.button.hidden = true;
    this.button.after(input);
    input.focus();
    input.select();
  }

  #commit(fromKey) {
    if (!this.input) return;
    const text = this.input.value.trim().replace("−", "-");
    const value = Number(text);
    if (text === "" || !Number.isFinite(value) || value < this.min || value > this.max) {
      const why = `${this.name} must be a number from ${this.min} to ${this.max}` + (text ? ` (not "${text}").` : ".");
      if (fromKey) {
        this.input.setAttribute("aria-invalid", "true");
        this.onError(why);
        return;
      }
      this.onError(why); // focus went elsewhere: give up the edit, keep the message
      this.#close(false);
      return;
    }
    this.onError(null);
    this.#close(fromKey);
    if (value !== this.value) this.onCommit(value);
  }

  #close(refocus) {
    const input = this.input;
    this.input = null;
    this.button.hidden = false;
    if (refocus) this.button.focus();
    input.remove();
  }
}
