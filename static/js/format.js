// The one number format of the page. Every value shown (table, parameters, totals, settings, tick labels,
// hover texts) goes through formatNumber, so that nothing ever needs more than WIDTH characters:
//   - fixed notation with `decimals` decimals (2 for data, parameters and losses; 5 for step size and λ),
//     dropping decimals down to two if the value needs the room ("1000.000");
//   - beyond that, exponent notation with two mantissa decimals, one if the exponent has three digits
//     ("2.25e+28", "-5.19e+15", "5.2e+151");
//   - never "-0.00": a value that rounds to zero is shown as zero.
// Shown in tabular figures (CSS), columns of these strings do not jitter as values change.

export const WIDTH = 8; // characters, not counting a minus sign

export function formatNumber(v, decimals = 2, { trim = false } = {}) {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "∞" : "−∞";
  const sign = v < 0 ? 1 : 0;
  for (let d = decimals; Math.abs(v) < 1e15 && d >= Math.min(decimals, 2); d--) {
    let s = v.toFixed(d);
    if (Number(s) === 0) s = (0).toFixed(d);
    if (trim && d > 0) s = s.replace(/\.?0+$/, "");
    if (s.length - (s[0] === "-" ? 1 : 0) <= WIDTH) return s;
  }
  return exponent(v, trim, sign);
}

function exponent(v, trim, sign) {
  let s = v.toExponential(2);
  // "d.dde+ddd" is nine characters: one decimal fewer (after rounding, which may carry into the exponent)
  if (s.length - sign > WIDTH) s = v.toExponential(1);
  if (trim) s = s.replace(/\.?0+e/, "e");
  return s;
}

// A tick label: the same rule without trailing zeros (ticks are round numbers), in exponent form from the
// magnitude where two-decimal values switch to it (1e+5) and below 1e-4.
export function formatTick(v) {
  const a = Math.abs(v);
  return a >= 1e5 || (a > 0 && a < 1e-4) ? exponent(v, true, v < 0 ? 1 : 0) : formatNumber(v, 4, { trim: true });
}

// For screen readers: the value itself, briefly ("0.1", not the slider's position "-1").
export const spoken = (v) => formatNumber(v, 5, { trim: true });

// Two decimals, the table's and parameters' format (kept under its old name for the other modules).
export const fixed2 = (v) => formatNumber(v, 2);
