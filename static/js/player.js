// The repeated update. One step request is in flight at a time, and it is sent *before* the previous answer
// is drawn, so the server computes while the browser draws: a frame costs max(draw, round trip), not their sum.

export class Player {
  constructor({ step, draw, onChange }) {
    this.step = step; // async (steps) => state | null: queue one step request and apply its answer
    this.draw = draw; // () => void: draw the applied state now
    this.onChange = onChange; // (running) => void
    this.running = false;
    this.stepsPerFrame = () => 1; // read at every frame, so a change applies at once
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.onChange(true);
    this.#loop();
  }

  stop() {
    if (!this.running) return;
    this.running = false;
    this.onChange(false);
  }

  async #loop() {
    let pending = this.step(this.stepsPerFrame());
    while (pending) {
      const state = await pending;
      const go = this.running && state && !state.diverged && !state.diverging; // a blow-up stops the run
      pending = go ? this.step(this.stepsPerFrame()) : null;
      this.draw();
      if (!go) this.stop();
    }
  }
}
