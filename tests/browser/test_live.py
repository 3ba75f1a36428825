"""Large data while running: the regions drawn as exact polygons agree with the heatmap's grid drawn at rest."""

import numpy as np

CHECK = """async ([W, b]) => {
  const { regionPolygon } = await import('/static/js/plane.js');
  const { regionGrid } = await import('/static/js/plots.js');
  const polygons = W.map((_, k) => regionPolygon(W, b, k));
  const inside = (poly, x, y) => {  // even-odd ray casting
    let hit = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i], [xj, yj] = poly[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  };
  const grid = regionGrid(W, b), n = grid.length, wrong = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const [x, y] = [-1 + (2 * j + 1) / n, -1 + (2 * i + 1) / n];
    const owners = polygons.map((p, k) => (inside(p, x, y) ? k : -1)).filter((k) => k >= 0);
    if (owners.length !== 1 || owners[0] !== grid[i][j]) wrong.push([x, y, grid[i][j], owners]);
  }
  const area = polygons.reduce((sum, p) => sum + Math.abs(p.reduce((a, [x, y], i) => {
    const [u, v] = p[(i + 1) % p.length];
    return a + x * v - u * y;
  }, 0)) / 2, 0);
  return { wrong: wrong.length, example: wrong[0] ?? null, area };
}"""


def test_region_polygons_match_the_grid_and_tile_the_square(demo):
    rng = np.random.default_rng(12)
    for K in (2, 3, 5, 10):
        W = rng.normal(0, 2, (K, 2)).round(3).tolist()
        b = rng.normal(0, 1, K).round(3).tolist()
        result = demo.evaluate(CHECK, [W, b])
        # a cell centre may sit within a rounding error of a boundary: none does for these seeds
        assert result["wrong"] == 0, result["example"]
        assert abs(result["area"] - 4) < 1e-9  # the regions tile the square [-1, 1]², no gap, no overlap
