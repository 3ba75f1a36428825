// The held-out points on the plane: each class's colour and marker shape, drawn open (hollow), so that they
// read as "not trained on" without colour alone. Never editable: the point editor picks only training points.

import { MAX_DRAWN } from "./plots.js";
import { SYMBOLS, pick } from "./palette.js";

export function testPointsTrace(state, { colors, font }) {
  const { X_test: X, y_test: y } = state;
  if (!X || !X.length) return null;
  const stride = Math.ceil(X.length / MAX_DRAWN);
  const shown = X.map((_, i) => i).filter((i) => i % stride === 0);
  const small = stride > 1 || X.length > 1000;
  return {
    type: "scatter", mode: "markers", name: "test points", x: shown.map((i) => X[i][0]), y: shown.map((i) => X[i][1]),
    marker: {
      size: small ? 6 : Math.round(font * 0.85), color: shown.map((i) => pick(colors.strong, y[i])),
      symbol: shown.map((i) => `${pick(SYMBOLS, y[i])}-open`), line: { width: small ? 1.5 : 2.5 },
    },
    hoverinfo: "skip",
  };
}

// The index of the test point within `radius` px of (x, y) in data units scaled by `scale` px per unit, or -1.
export function nearestTest(state, pos, radius) {
  const X = state.X_test;
  if (!X) return -1;
  let best = -1;
  let bestDist = radius;
  X.forEach(([x0, x1], i) => {
    const d = Math.hypot(x0 - pos.x, x1 - pos.y) * pos.scale;
    if (d <= bestDist) { bestDist = d; best = i; }
  });
  return best;
}
