// Class colours and marker shapes. Two palettes:
//   - "default": chosen to stay apart for colour-blind eyes. Its first three classes are at CIEDE2000 ≥ 20
//     from each other under normal vision and simulated deuteranopia, protanopia and tritanopia (Machado et
//     al. 2009), both as strong colours (points, lines) and as tints (regions, table, parameter boxes);
//     tests/browser/test_palette.py measures it on a screenshot. The tints differ in lightness as well as in
//     hue, because a red–green or blue–yellow blind eye keeps only one of the two hue axes.
//   - "original": the original demo's blue, green and red.
// Colour is never the only cue: each class also has its own marker shape, drawn on the plane, in the class
// picker and beside the label in the table.

const PALETTES = {
  default: {
    strong: ["#3f6ee8", "#f5a03a", "#8c1c48", "#1b9e77", "#7b4fc9", "#8c6d31", "#17a2b8", "#6b7d2a", "#d45fae", "#525a66"],
    tint: ["#c0d8ff", "#ffe4a8", "#e4849c", "#bfe8d9", "#dccdf5", "#e6d5b8", "#bfeaf2", "#dfe6b8", "#f6cdea", "#d6dae0"],
  },
  original: {
    strong: ["#3d6fd8", "#2e9e45", "#d9443a", "#9a4fd0", "#e08a1e", "#1aa3a3", "#c2417f", "#6b7d2a", "#7a5c3e", "#555f6d"],
    tint: ["#dfe8fd", "#dcf3e1", "#fce1de", "#efe3f9", "#fdecd6", "#dcf4f4", "#f7e0ec", "#edf1db", "#f2eae2", "#eaedf0"],
    region: ["#c9d8fb", "#c8edd0", "#f9cfcb", "#e3d0f4", "#fbe0bd", "#c4ecec", "#f2cde0", "#e2e8c6", "#e9ddd1", "#dde1e6"],
  },
};

// Plotly marker symbols, and the same shapes as SVG paths in a 12×12 box for the HTML (class picker, table).
export const SYMBOLS = ["circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon", "hexagon", "star", "cross", "x"];
const SHAPE_PATHS = [
  "M6 1a5 5 0 1 0 0.01 0z",
  "M1.5 1.5h9v9h-9z",
  "M6 0.5l5.5 5.5-5.5 5.5-5.5-5.5z",
  "M6 1l5.5 9.5h-11z",
  "M6 11l5.5-9.5h-11z",
  "M6 0.8l5.2 3.8-2 6.1h-6.4l-2-6.1z",
  "M3.2 1.2h5.6l2.8 4.8-2.8 4.8h-5.6l-2.8-4.8z",
  "M6 0.5l1.6 3.6 3.9 0.4-2.9 2.6 0.9 3.9-3.5-2-3.5 2 0.9-3.9-2.9-2.6 3.9-0.4z",
  "M4.2 0.8h3.6v3.4h3.4v3.6h-3.4v3.4h-3.6v-3.4h-3.4v-3.6h3.4z",
  "M2.2 0.8l3.8 3.4 3.8-3.4 1.4 1.4-3.4 3.8 3.4 3.8-1.4 1.4-3.8-3.4-3.8 3.4-1.4-1.4 3.4-3.8-3.4-3.8z",
];

export const PALETTE_NAMES = Object.keys(PALETTES);

// The colours of one palette: strong (points, lines, swatches), tint (table and parameter boxes) and region
// (the decision regions; the tints themselves unless the palette has its own).
export function palette(name = "default") {
  const p = PALETTES[name] ?? PALETTES.default;
  return { name: PALETTES[name] ? name : "default", strong: p.strong, tint: p.tint, region: p.region ?? p.tint };
}

export const pick = (list, k) => list[k % list.length];

// A small inline SVG of class k's marker: its shape, filled with its colour, outlined in ink.
export function shapeIcon(k, colors, size = 12) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 12 12");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("shape");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", pick(SHAPE_PATHS, k));
  path.setAttribute("fill", pick(colors.strong, k));
  path.setAttribute("stroke", "#1b1f24");
  path.setAttribute("stroke-width", "1");
  svg.append(path);
  return svg;
}
