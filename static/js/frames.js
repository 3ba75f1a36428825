// One render per animation frame, shared by both pages. schedule() marks the view changed and asks for the next
// animation frame; flush() renders at once if anything changed since the last render (the player calls it as soon
// as an answer is applied), so the frame that follows finds nothing to do and draws nothing twice.

export class RenderScheduler {
  constructor(render) {
    this.render = render;
    this.dirty = false;
    this.pending = false;
  }

  schedule() {
    this.dirty = true;
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.flush();
    });
  }

  flush() {
    if (!this.dirty) return;
    this.dirty = false;
    this.render();
  }

  // Render now, changed or not (e.g. after the text size changed).
  now() {
    this.dirty = true;
    this.flush();
  }
}
