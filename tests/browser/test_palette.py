"""Colours anyone can tell apart: the first three classes, sampled from screenshots of the regions, the points,
the table tints and the parameter boxes, stay at CIEDE2000 ≥ 20 from each other under normal vision and
simulated deuteranopia, protanopia and tritanopia; shapes and marks carry meaning too, not colour alone."""

import itertools
import math

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.browser.colorvision import MACHADO, ciede2000, difference, lab, read_png, simulate
from tests.browser.helpers import to_pixels

VISIONS = ["normal", "deuteranopia", "protanopia", "tritanopia"]
ANGLES = [10, 130, 250]  # degrees: where each class's region is sampled (away from lines and axes)


def three_sectors(page, live_server):
    """W, b with the plane cut into three equal sectors (class k around 120°·k), one point of each class
    inside its own sector; then a reload so the page draws them."""
    W = [[math.cos(math.radians(120 * k)), math.sin(math.radians(120 * k))] for k in range(3)]
    X = [[0.45 * math.cos(math.radians(a)), 0.45 * math.sin(math.radians(a))] for a in ANGLES]
    sid = page.evaluate("window.app.sid")
    r = httpx.patch(f"{live_server}/api/sessions/{sid}", json={"W": W, "b": [0, 0, 0], "X": X, "y": [0, 1, 2]})
    assert r.status_code == 200
    page.reload()
    expect(page.locator("#data-table tbody tr")).to_have_count(3)
    page.wait_for_timeout(300)  # the plot's first frame
    return X


def pixel(page, x, y, w=3, h=3):
    """The median colour of a small screenshot around page point (x, y)."""
    shot = page.screenshot(clip={"x": math.floor(x) - w // 2, "y": math.floor(y) - h // 2, "width": w, "height": h})
    pixels = read_png(shot)[..., :3].reshape(-1, 3)
    return tuple(int(v) for v in np.median(pixels, axis=0))


def box_edge(page, selector):
    """A point just inside the left edge of an element's box, at half its height (background, not text)."""
    b = page.locator(selector).bounding_box()
    return b["x"] + 2.5, b["y"] + b["height"] / 2


def sampled_colours(page, X):
    colours = {
        "regions": [pixel(page, *to_pixels(page, 0.8 * math.cos(math.radians(a)), 0.8 * math.sin(math.radians(a)))) for a in ANGLES],
        "points": [pixel(page, *to_pixels(page, *X[k])) for k in range(3)],
        "table tints": [pixel(page, *box_edge(page, f"#data-table tbody tr:first-child td:nth-child({4 + k})"), w=2) for k in range(3)],
        "parameter boxes": [pixel(page, *box_edge(page, f"[data-param='W[{k},0]']"), w=2) for k in range(3)],
    }
    for where, found in colours.items():
        assert len(set(found)) == 3, f"{where}: the three classes were drawn in {found}"
    return colours


def worst_pair(colours):
    return min(
        (difference(a, b, vision), where, vision, i, j)
        for where, found in colours.items()
        for vision in VISIONS
        for (i, a), (j, b) in itertools.combinations(enumerate(found), 2)
    )


def test_the_colour_science_matches_published_values():
    # CIEDE2000 test data of Sharma, Wu & Dalal (2005), pairs 1, 7, 17 and 25.
    pairs = [((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425), ((50, 0, 0), (50, -1, 2), 2.3669),
             ((50, 2.5, 0), (73, 25, -18), 27.1492), ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644)]
    for lab1, lab2, expected in pairs:
        assert ciede2000(np.array(lab1, float), np.array(lab2, float)) == pytest.approx(expected, abs=1e-4)
    assert lab(simulate((255, 255, 255), "normal")) == pytest.approx([100, 0, 0], abs=1e-3)
    for vision, m in MACHADO.items():  # every simulation keeps white white and grey grey
        assert m.sum(axis=1) == pytest.approx([1, 1, 1], abs=2e-3), vision
    # the finding: the original green and red dots merge under deuteranopia
    assert difference((0x2E, 0x9E, 0x45), (0xD9, 0x44, 0x3A), "deuteranopia") < 15


def test_the_first_three_classes_stay_apart_under_every_simulation(demo, live_server):
    X = three_sectors(demo, live_server)
    colours = sampled_colours(demo, X)
    dE, where, vision, i, j = worst_pair(colours)
    assert dE >= 20, f"{where}, classes {i} and {j} under {vision}: CIEDE2000 {dE:.1f}"


def test_the_original_colours_are_kept_as_an_option_and_fail_the_bar(demo, live_server):
    X = three_sectors(demo, live_server)
    demo.check("#original-colors")
    demo.wait_for_timeout(300)
    colours = sampled_colours(demo, X)
    assert colours["points"] == [(0x3D, 0x6F, 0xD8), (0x2E, 0x9E, 0x45), (0xD9, 0x44, 0x3A)]  # the original's blue, green, red
    dE, where, vision, *_ = worst_pair(colours)
    assert dE < 5 and vision in ("deuteranopia", "protanopia")  # the measurement tells a bad palette from a good one
    assert "palette=original" in demo.url  # in the link
    demo.reload()  # remembered
    expect(demo.locator("#original-colors")).to_be_checked()


def test_classes_differ_by_shape_and_zero_losses_by_more_than_colour(demo):
    symbols = demo.evaluate("document.getElementById('regions').data.find((t) => t.mode === 'markers').marker.symbol")
    labels = demo.locator("#data-table tbody td:nth-child(3)").all_inner_texts()
    by_class = {}
    for label, symbol in zip(labels, symbols):
        by_class.setdefault(label, set()).add(symbol)
    assert all(len(s) == 1 for s in by_class.values()) and len({next(iter(s)) for s in by_class.values()}) == 3
    shapes = demo.locator("#class-picker svg path").evaluate_all("(ps) => ps.map((p) => p.getAttribute('d'))")
    assert len(set(shapes)) == 3  # the picker shows each class's own shape
    zero = demo.locator("#data-table tbody tr:nth-child(3) td.loss")
    other = demo.locator("#data-table tbody tr:nth-child(1) td.loss")
    mark = "(el) => [getComputedStyle(el, '::before').content, getComputedStyle(el).backgroundColor]"
    zero_mark, zero_fill = zero.evaluate(mark)
    other_mark, other_fill = other.evaluate(mark)
    assert zero_mark == '"✓"' and other_mark in ("none", "normal")
    assert zero_fill != other_fill
