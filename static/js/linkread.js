// Reading a link (see link.js for its fields): the hash parsed and checked field by field, packed fields
// unpacked, and a new session made from what it holds.

import { sessions } from "./api.js";
import { SETTINGS } from "./state.js";

const UNPACK_MAX = 8 << 20; // bytes a packed field may expand to
const TEXT_SETTINGS = ["loss_type", "reg_gradient", "optimizer"];
// The view options that are controls of the page: [hash key, element id, default].
export const VIEW_CONTROLS = [["spf", "steps-per-frame", "1"], ["p1", "surface-p1", "W[0,0]"], ["p2", "surface-p2", "b[1]"],
  ["span", "surface-span", "3"], ["slice", "slice-direction", "gradient"]];
export const VIEW_CHECKS = [["log", "log-y"], ["surface", "surface-on"]];

// --- packing ----------------------------------------------------------------------------------------------------
export async function pack(value) {
  const stream = new Blob([JSON.stringify(value)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function unpack(text) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > UNPACK_MAX) { reader.cancel(); throw new Error("too large"); }
    chunks.push(value);
  }
  return JSON.parse(await new Blob(chunks).text());
}

// --- reading a link ---------------------------------------------------------------------------------------------
const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const isVector = (v) => Array.isArray(v) && v.every(isNumber);
const isMatrix = (v) => Array.isArray(v) && v.every(isVector);
const isLabels = (v) => Array.isArray(v) && v.every((k) => Number.isInteger(k) && k >= 0);
const isLosses = (v, length) => Array.isArray(v) && v.length === length && v.every((x) => x === null || isNumber(x));
const CHECKED = { W: isMatrix, b: isVector, X: isMatrix, y: isLabels };

// What the hash describes: { tag, body (settings, W, b), step, data, preset, curve, omitted, view, invalid[] },
// or null for an empty hash. Every field that cannot be read is named in `invalid` and left out.
export async function parseLink(hash) {
  if (!hash || hash.length < 2) return null;
  const params = new URLSearchParams(hash.slice(1));
  const link = { tag: params.get("tag"), body: {}, view: {}, invalid: [] };
  for (const key of SETTINGS) {
    if (!params.has(key)) continue;
    const raw = params.get(key);
    const value = TEXT_SETTINGS.includes(key) ? raw : Number(raw);
    if (TEXT_SETTINGS.includes(key) ? /^[a-z_]{1,40}$/.test(raw) : raw !== "" && Number.isFinite(value)) link.body[key] = value;
    else link.invalid.push(key);
  }
  for (const key of ["W", "b", "X", "y"]) {
    if (!params.has(key)) continue;
    try {
      const value = JSON.parse(params.get(key));
      if (!CHECKED[key](value)) throw new Error();
      (key === "X" || key === "y" ? (link.data ??= {}) : link.body)[key] = value;
    } catch {
      link.invalid.push(key);
    }
  }
  if (params.has("step")) {
    const step = Number(params.get("step"));
    if (Number.isInteger(step) && step >= 0 && params.get("step") !== "") link.step = step;
    else link.invalid.push("step");
  }
  const packed = async (key, valid) => {
    if (!params.has(key)) return undefined;
    try {
      const value = await unpack(params.get(key));
      if (valid(value)) return value;
    } catch { /* named below */ }
    link.invalid.push(key);
    return undefined;
  };
  link.data = (await packed("data", (d) => d && isMatrix(d.X) && isLabels(d.y))) ?? link.data;
  link.curve = await packed("curve", (c) => c && isVector(c.history) && c.history.length > 0 && Number.isInteger(c.start) &&
    Array.isArray(c.segments) && (c.test === undefined || isLosses(c.test, c.history.length)));
  if (params.has("preset")) {
    try {
      const preset = JSON.parse(params.get("preset"));
      if (!preset || typeof preset.name !== "string") throw new Error();
      link.preset = preset;
    } catch {
      link.invalid.push("preset");
    }
  }
  if (params.has("omitted")) link.omitted = Number(params.get("omitted")) || 0;
  if (params.has("lowest")) {
    const lowest = Number(params.get("lowest"));
    if (params.get("lowest") !== "" && Number.isFinite(lowest)) link.watch = { lowest, diverging: params.get("diverging") === "1" };
    else link.invalid.push("lowest");
  }
  for (const [key] of [...VIEW_CONTROLS, ...VIEW_CHECKS]) if (params.has(key)) link.view[key] = params.get(key);
  link.session = Object.keys(link.body).length > 0 || link.invalid.length > 0 ||
    [link.data, link.curve, link.preset, link.step, link.omitted].some((v) => v !== undefined);
  return link;
}

// A new session showing what the link holds. Data drawn from a preset are drawn again (same seed); data too
// many for the link are replaced by the original nine points, with the parameters if they fit them.
export async function recreate(link, notes) {
  const { body } = link;
  let data = link.data;
  const preset = link.preset && (link.preset.seed === null || Number.isSafeInteger(link.preset.seed)) ? link.preset : null;
  if (!data && !link.omitted && preset && preset.name !== "original") {
    const scratch = await sessions.create();
    const { name, seed, n, classes, noise, test_fraction: testFraction } = preset;
    const reset = { data: name, ...(seed != null && { seed }), ...(n != null && { n }), ...(classes != null && { classes }) };
    if (name !== "original") Object.assign(reset, { ...(noise != null && { noise }), test_fraction: testFraction ?? 0 });
    const drawn = await sessions.reset(scratch.id, reset).finally(() => sessions.remove(scratch.id).catch(() => null));
    data = { X: drawn.X, y: drawn.y, ...(drawn.X_test && { X_test: drawn.X_test, y_test: drawn.y_test }) };
  }
  if (!data && link.omitted) {
    notes.push(`This link left out its data (${link.omitted} points are too many for a link): showing the original 9 points` +
      (body.W?.length === 3 ? " with the link's settings and parameters" : " with the link's settings (its parameters are for other data)") +
      "; the step count starts again at 0.");
    if (body.W?.length !== 3) { delete body.W; delete body.b; }
    return sessions.create(body);
  }
  const step = link.step ?? 0;
  if (!data || (step === 0 && !link.curve)) return sessions.create({ ...body, ...data });
  if (!body.W || !body.b) throw new Error("it holds data and a step count but no parameters");
  let curve = link.curve?.start + link.curve?.history.length - 1 === step ? link.curve : null;
  if (!curve) {
    notes.push("The link holds no loss curve for its step count: the curve starts at this step.");
    const probe = await sessions.create({ ...body, ...data }); // for the loss at this step
    sessions.remove(probe.id).catch(() => null);
    curve = { history: [probe.loss], start: step, segments: [[step, probe.optimizer]], test: [probe.test_loss] };
  } else if (curve.start > 0) {
    notes.push(`The loss curve starts at step ${curve.start}: the link holds its last ${curve.history.length} steps.`);
  }
  const settings = Object.fromEntries(SETTINGS.filter((k) => k in body).map((k) => [k, body[k]]));
  // a test set's loss beside each entry of the curve: the link's, or unknown (links made before it held them)
  const tests = data.X_test && { test_history: curve.test ?? curve.history.map(() => null) };
  return sessions.import({
    settings, W: body.W, b: body.b, ...data, ...tests, step, seed: Math.floor(Math.random() * 2 ** 31),
    history: curve.history, history_start: curve.start, segments: curve.segments,
    ...(curve.changes?.length && { changes: curve.changes }), ...(preset && { preset }),
    ...(link.watch && { divergence: { ...link.watch, rises: 0, flips: 0 } }),
  });
}
