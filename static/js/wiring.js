// The page's controls, wired to the App: each sends its change through app.act and names the place beside
// it where a message about it appears.

import { sessions } from "./api.js";
import { NumberEdit } from "./numberedit.js";
import { LogSlider, regFromSlider, sliderFromReg, sliderFromStepSize, stepSizeFromSlider } from "./sliders.js";

const $ = (id) => document.getElementById(id);

export function wire(app) {
  const patch = (key, value, where) => app.act((id) => sessions.update(id, { [key]: value }), key, { where });
  const say = (where) => (text) => (text ? app.say(text, "error", where) : app.messages.clear(where));

  // Step size and λ: a log slider each, and the value beside it can be typed.
  const stepSize = (v) => { app.stepEdit.show(v); patch("step_size", v, $("step-msg")); };
  const reg = (v) => { app.regEdit.show(v); patch("reg", v, $("loss-msg")); };
  app.stepSlider = new LogSlider($("step-size"), {
    fromSlider: stepSizeFromSlider, toSlider: sliderFromStepSize, min: 1e-4, max: 10, onChange: stepSize,
  });
  app.regSlider = new LogSlider($("reg"), {
    fromSlider: regFromSlider, toSlider: sliderFromReg, min: 1e-4, max: 10, zero: true, onChange: reg,
  });
  app.stepEdit = new NumberEdit($("step-size-value"), {
    name: "Step size", min: 1e-6, max: 1000, decimals: 5, onError: say($("step-msg")),
    onCommit: (v) => { app.stepSlider.show(v); stepSize(v); },
  });
  app.regEdit = new NumberEdit($("reg-value"), {
    name: "Regularization strength λ", min: 0, max: 1000, decimals: 5, onError: say($("loss-msg")),
    onCommit: (v) => { app.regSlider.show(v); reg(v); },
  });

  $("loss-type").addEventListener("change", (e) => patch("loss_type", e.target.value, $("loss-msg")));
  $("optimizer").addEventListener("change", (e) => patch("optimizer", e.target.value, $("optimizer-msg")));
  for (const radio of document.querySelectorAll("input[name=reg-gradient]")) {
    radio.addEventListener("change", (e) => patch("reg_gradient", e.target.value, $("loss-msg")));
  }
  const numberField = (id, key, integer) => $(id).addEventListener("change", (e) => {
    const v = Number(e.target.value);
    if (e.target.value !== "" && Number.isFinite(v)) patch(key, integer ? Math.round(v) : v, $("optimizer-msg"));
    else app.say(`${key.replace("_", " ")} must be a number.`, "error", $("optimizer-msg"));
  });
  numberField("batch-size", "batch_size", true);
  numberField("h", "h", false);
  numberField("search-scale", "search_scale", false);

  const run = { where: $("run-msg") };
  $("btn-step").addEventListener("click", () => app.act((id) => sessions.step(id, 1), null, run));
  $("btn-start").addEventListener("click", () => app.player.start());
  $("btn-stop").addEventListener("click", () => app.player.stop());
  $("btn-random").addEventListener("click", () => app.act((id) => sessions.reset(id, { params: "random" }), null, { ...run, replace: true }));
  $("btn-reset").addEventListener("click", () => app.act((id) => sessions.reset(id, { params: "default" }), null, { ...run, replace: true }));
  app.restoreDefaults = (where) => app.act((id) => sessions.restore(id), null, { where, replace: true });
  $("btn-restore").addEventListener("click", () => app.restoreDefaults(run.where));
  app.player.stepsPerFrame = () => {
    const choice = $("steps-per-frame").value;
    // auto: about 0.1 of "step size × steps" per frame, so that a small step size still moves visibly
    return choice === "auto" ? Math.min(1000, Math.max(1, Math.round(0.1 / app.view.state.step_size))) : Number(choice);
  };
  $("log-y").addEventListener("change", () => app.scheduleRender());

  // View options: remembered, and in the link.
  $("present").addEventListener("change", (e) => app.setViewOptions({ ...app.viewOptions, present: e.target.checked }));
  $("original-colors").addEventListener("change", (e) => app.setViewOptions({ ...app.viewOptions, palette: e.target.checked ? "original" : "default" }));

  // The lab panels.
  const verdict = $("gradcheck-verdict");
  $("btn-gradcheck").addEventListener("click", () => {
    const revision = sessions.revision(app.sid); // the result belongs to this state; stale after any change
    app.gradcheck.run(app.sid, app.view.state).then(() => app.gradStale.fresh(revision), (err) => app.say(err.message, "error", verdict));
  });
  for (const id of ["surface-p1", "surface-p2", "surface-span", "surface-on", "slice-direction"]) {
    $(id).addEventListener("change", () => {
      $("surface").parentElement.classList.toggle("surface-on", app.surface.shown);
      if (app.surface.shown) app.surface.refresh(app.sid, app.view).catch((err) => app.say(err.message, "error", $("surface-msg")));
      else app.surface.clear();
    });
  }
  $("btn-link").addEventListener("click", async () => app.say(await app.link.copy(), "info", $("share-note")));
  $("import-file").addEventListener("change", (e) => importFile(app, e.target.files[0]));
}

async function importFile(app, file) {
  if (!file) return;
  const where = $("share-note");
  try {
    app.player.stop();
    app.use(await sessions.import(JSON.parse(await file.text())));
    app.say(`Imported ${file.name}.`, "info", where);
  } catch (err) {
    app.say(`Import failed: ${err.message}`, "error", where);
  }
}
