// Messages where the user is looking: each one goes to the place beside the control that caused it; when that
// place is scrolled out of view, or the message belongs to no control, it also appears in the toast, fixed
// at the bottom of the viewport. The next success of the same control clears it.

export class Messages {
  constructor(toast) {
    this.toast = toast;
    this.text = toast.querySelector("[role=status]");
    this.close = toast.querySelector("button");
    this.origin = undefined; // the place whose message the toast repeats (null: a message of no control)
    this.close.addEventListener("click", () => this.#hideToast());
  }

  // Show `text` (kind "error" or "info") at `place` (an element, or null for the toast only).
  show(place, text, kind = "error") {
    if (place) {
      place.textContent = text;
      place.className = `${place.className.replace(/\b(error|info)\b/g, "").trim()} ${kind}`;
    }
    if (!place || !inView(place)) {
      this.text.textContent = text;
      this.toast.className = `toast shown ${kind}`;
      this.close.hidden = false;
      this.origin = place;
    } else if (this.origin === place) {
      this.#hideToast();
    }
  }

  // Clear the message at `place` (and the toast's copy of it); clear(null) clears a toast of no control.
  clear(place) {
    if (place && place.textContent) {
      place.textContent = "";
      place.classList.remove("error", "info");
    }
    if (this.origin === place) this.#hideToast();
  }

  // The place was brought into view (scrolled): its copy in the toast goes.
  settle(place) {
    if (this.origin === place && inView(place)) this.#hideToast();
  }

  // The text at `place`, or "" (for tests and the console).
  textAt(place) {
    return (place ?? this.text).textContent;
  }

  #hideToast() {
    this.text.textContent = "";
    this.toast.className = "toast";
    this.close.hidden = true;
    this.origin = undefined;
  }
}

// Within a pixel: scrollIntoView may leave an element half a pixel past the edge it was aligned with.
function inView(el) {
  const r = el.getBoundingClientRect();
  return r.height > 0 && r.top >= -1 && r.bottom <= window.innerHeight + 1 && r.left >= -1 && r.right <= window.innerWidth + 1;
}
