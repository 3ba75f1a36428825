"""The link is the view: the address bar follows every change, a reload keeps the live session, a copied link
opens the same view in another browser, and bad, old or too large links are handled in words."""

import base64
import json
import re
import zlib
from urllib.parse import parse_qsl, urlencode

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import session_state
from tests.browser.helpers import load_blobs_with_tests, load_preset, to_pixels

DEFAULTS_W = [[1, 2], [2, -4], [3, -1]]


def steps(page, n):
    for i in range(n):
        page.click("text=Single parameter update")
        expect(page.locator("#step-count")).to_have_text(str(i + 1))


def hash_has(page, text):
    page.wait_for_function("(text) => decodeURIComponent(location.hash).includes(text)", arg=text)


def fresh_page(context, url):
    """A page in a new browser (no sessionStorage, no localStorage), opened at ``url``."""
    other = context.browser.new_context(viewport={"width": 1280, "height": 800})
    page = other.new_page()
    page.goto(url)
    return page


def test_a_reload_after_three_steps_keeps_step_3_the_settings_and_w(demo, live_server):
    demo.select_option("#loss-type", "softmax")
    expect(demo.locator("#total-loss")).not_to_have_text("6.27")
    steps(demo, 3)
    before = session_state(demo, live_server)
    hash_has(demo, "step=3")
    demo.reload()
    expect(demo.locator("#step-count")).to_have_text("3")
    expect(demo.locator("#loss-type")).to_have_value("softmax")
    after = session_state(demo, live_server)
    assert after["id"] == before["id"]  # the live session, not a copy
    assert after["W"] == before["W"] and after["step"] == 3 and after["loss_type"] == "softmax"
    assert demo.evaluate("window.app.view.history.length") == 4  # the loss curve too


def test_a_copied_link_opens_the_same_view_in_a_new_browser(demo, live_server, context):
    demo.select_option("#loss-type", "svm_ova")
    demo.locator("input[name=new-class][value='1']").check()
    demo.mouse.click(*to_pixels(demo, -0.8, 0.8))
    expect(demo.locator("#data-table tbody tr")).to_have_count(10)
    steps(demo, 2)
    demo.check("#log-y")
    demo.select_option("#steps-per-frame", "5")
    demo.check("#surface-on")
    demo.select_option("#surface-p1", "W[1,0]")
    demo.select_option("#surface-p2", "b[2]")
    demo.fill("#surface-span", "2")
    demo.dispatch_event("#surface-span", "change")
    demo.check("#present")
    demo.click("text=Copy link to this state")
    expect(demo.locator("#share-note")).to_contain_text("opens this view")
    original = session_state(demo, live_server)

    shared = fresh_page(context, demo.url)
    expect(shared.locator("#step-count")).to_have_text("2")
    copy = session_state(shared, live_server)
    assert copy["id"] != original["id"]
    for key in ("loss_type", "step_size", "reg", "optimizer", "W", "b", "X", "y", "step", "segments"):
        assert copy[key] == original[key], key
    np.testing.assert_allclose(copy["history"], original["history"], rtol=1e-6)  # the loss curve
    expect(shared.locator("#total-loss")).to_have_text(demo.inner_text("#total-loss"))
    expect(shared.locator("#log-y")).to_be_checked()
    expect(shared.locator("#steps-per-frame")).to_have_value("5")
    expect(shared.locator("#surface-on")).to_be_checked()
    expect(shared.locator("#surface-p1")).to_have_value("W[1,0]")
    expect(shared.locator("#surface-p2")).to_have_value("b[2]")
    expect(shared.locator("#surface-span")).to_have_value("2")
    expect(shared.locator("html")).to_have_class(re.compile(r"\bpresent\b"))
    shared.wait_for_function("() => document.getElementById('surface').data?.[0]?.type === 'contour'")
    assert shared.evaluate("document.getElementById('loss-axes')._fullLayout.yaxis.type") == "log"
    shared.context.close()


def test_a_link_to_generated_data_draws_them_again(demo, live_server, context):
    load_preset(demo, "moons", 2, 1500)  # 3,000 points: too many to pack, but drawn from a seed
    steps(demo, 1)
    original = session_state(demo, live_server)
    hash_has(demo, "preset=")
    hash_has(demo, "step=1")  # the hash follows within half a second
    shared = fresh_page(context, demo.url)
    expect(shared.locator("#step-count")).to_have_text("1")
    copy = session_state(shared, live_server)
    assert copy["X"] == original["X"] and copy["y"] == original["y"] and copy["W"] == original["W"]
    assert copy["preset"] == original["preset"]
    shared.context.close()


def test_a_link_with_held_out_data_opens_with_its_test_points_and_test_curve(demo, live_server, context):
    load_blobs_with_tests(demo, live_server)
    steps(demo, 3)
    original = session_state(demo, live_server)
    hash_has(demo, "step=3")
    shared = fresh_page(context, demo.url)
    expect(shared.locator("#step-count")).to_have_text("3")
    copy = session_state(shared, live_server)
    for key in ("X", "y", "X_test", "y_test", "W", "b", "step", "test_loss", "test_accuracy"):
        assert copy[key] == original[key], key
    np.testing.assert_allclose(copy["test_history"], original["test_history"], rtol=1e-6)
    curve = shared.evaluate("() => document.getElementById('loss-curve').data.find((t) => t.name === 'test data loss')")
    assert curve["x"] == [0, 1, 2, 3]
    np.testing.assert_allclose(curve["y"], original["test_history"], rtol=1e-6)
    expect(shared.locator("#test-accuracy")).to_have_text(demo.inner_text("#test-accuracy"))
    shared.context.close()


def test_a_link_saved_while_diverging_opens_diverging_with_its_remedies(demo, live_server, context):
    sid = demo.evaluate("window.app.sid")
    with httpx.Client(base_url=live_server) as client:
        client.patch(f"/api/sessions/{sid}", json={"step_size": 10})  # 2·λ·step size = 2: the rule holds
        for _ in range(100):
            state = client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()
            if state["diverging"]:
                break
    assert state["diverging"]
    demo.reload()
    expect(demo.locator("#run-msg")).to_contain_text("Diverging")
    hash_has(demo, "diverging=1")
    shared = fresh_page(context, demo.evaluate("location.href"))
    expect(shared.locator("#step-count")).to_have_text(str(state["step"]))
    copy = session_state(shared, live_server)
    assert copy["diverging"] and copy["lowest_loss"] == state["lowest_loss"]
    expect(shared.locator("#run-msg")).to_contain_text(demo.inner_text("#run-msg").split(" 2·λ")[0])  # the same rise
    expect(shared.get_by_role("button", name="Halve the step size")).to_be_visible()
    shared.context.close()


def repacked(url, key, change):
    """``url`` with its packed field ``key`` (deflate-raw JSON, base64url) unpacked, changed and packed again."""
    base, fragment = url.split("#", 1)
    params = dict(parse_qsl(fragment, keep_blank_values=True))
    text = params[key] + "=" * (-len(params[key]) % 4)
    value = json.loads(zlib.decompress(base64.urlsafe_b64decode(text), wbits=-15))
    change(value)
    packer = zlib.compressobj(wbits=-15)
    packed = packer.compress(json.dumps(value).encode()) + packer.flush()
    params[key] = base64.urlsafe_b64encode(packed).decode().rstrip("=")
    return f"{base}#{urlencode(params)}"


def test_a_link_with_held_out_data_but_no_test_curve_opens_with_the_test_losses_unknown(demo, live_server, context):
    load_blobs_with_tests(demo, live_server)  # as links made before they carried the test curve
    steps(demo, 2)
    original = session_state(demo, live_server)
    hash_has(demo, "step=2")
    shared = fresh_page(context, repacked(demo.url, "curve", lambda curve: curve.pop("test")))
    expect(shared.locator("#step-count")).to_have_text("2")
    copy = session_state(shared, live_server)
    assert copy["X_test"] == original["X_test"] and copy["test_loss"] == original["test_loss"]
    assert copy["test_history"] == [None, None, None]  # unknown, not made up
    expect(shared.locator("#test-accuracy")).to_have_text(demo.inner_text("#test-accuracy"))
    shared.context.close()


def test_a_link_with_too_much_data_says_the_data_were_left_out(demo, live_server, context):
    rng = np.random.default_rng(0)
    X = np.round(rng.uniform(-1, 1, (2500, 2)), 3).tolist()
    y = rng.integers(0, 3, 2500).tolist()
    sid = demo.evaluate("window.app.sid")
    assert httpx.patch(f"{live_server}/api/sessions/{sid}", json={"X": X, "y": y}).status_code == 200
    demo.reload()
    expect(demo.locator("#table-note")).to_contain_text("of 2500 points")
    demo.click("text=Copy link to this state")
    expect(demo.locator("#share-note")).to_contain_text("leaves out the data: 2500 points are too many")
    assert "data=" not in demo.url and "omitted=2500" in demo.url

    shared = fresh_page(context, demo.url)
    expect(shared.locator("#share-note")).to_contain_text("This link left out its data (2500 points")
    expect(shared.locator("#status")).to_contain_text("left out its data")  # in view: the toast repeats it
    copy = session_state(shared, live_server)
    assert copy["n_points"] == 9 and copy["W"] == session_state(demo, live_server)["W"]
    shared.context.close()


def test_a_malformed_link_names_what_is_invalid_and_starts_from_the_defaults(page, live_server):
    page.goto(live_server + "/#loss_type=softmax&W=%5B%5B1%2C2%5D&step=x&data=%21%21")
    expect(page.locator("#share-note")).to_have_text("The link's W, step, data are not valid; starting from the defaults.")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    expect(page.locator("#loss-type")).to_have_value("svm_ww")
    state = session_state(page, live_server)
    assert state["W"] == DEFAULTS_W and state["step"] == 0


def test_a_link_of_the_earlier_format_keeps_working(page, live_server):
    W, b = [[0.5, 1], [-1, 0.25], [0, -2]], [0.1, 0.2, 0.3]
    X, y = [[0.5, 0.4], [-0.5, 0.2], [0.1, -0.7]], [0, 1, 2]
    params = httpx.QueryParams({"loss_type": "softmax", "reg": "0.5", "W": str(W).replace(" ", ""), "b": str(b),
                                "X": str(X).replace(" ", ""), "y": str(y)})
    page.goto(f"{live_server}/#{params}")
    expect(page.locator("#data-table tbody tr")).to_have_count(3)
    state = session_state(page, live_server)
    assert state["W"] == W and state["b"] == b and state["X"] == X and state["y"] == y
    assert state["loss_type"] == "softmax" and state["reg"] == pytest.approx(0.5)


# The canvas's colour at the centre of each region polygon of the state it last painted, against the palette.
PAINTED = """async () => {
  const { regionPolygon } = await import('/static/js/plane.js');
  const app = window.app, { W, b } = app.view.state, canvas = document.getElementById('regions-live');
  const { xaxis, yaxis } = document.getElementById('regions-axes')._fullLayout;
  const ratio = canvas.width / canvas.clientWidth;
  const image = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height); // one readback
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const mismatches = [];
  let classes = 0;
  W.forEach((_, k) => {
    const poly = regionPolygon(W, b, k);
    if (poly.length < 3) return;
    classes++;
    const [x, y] = [0, 1].map((d) => poly.reduce((s, p) => s + p[d], 0) / poly.length);
    const [px, py] = [xaxis._offset + (x + 1) / 2 * xaxis._length, yaxis._offset + (1 - y) / 2 * yaxis._length];
    const at = 4 * (Math.round(py * ratio) * canvas.width + Math.round(px * ratio));
    const got = [...image.data.slice(at, at + 3)];
    const want = hex(app.colors.region[k]);
    if (got.some((v, i) => Math.abs(v - want[i]) > 2)) mismatches.push({ k, got, want });
  });
  return { classes, mismatches };
}"""


def test_the_table_is_marked_paused_while_running_on_large_data(demo, live_server):
    load_preset(demo, "blobs", 5, 2000)
    note = demo.locator("#table-note")
    expect(note).not_to_contain_text("Paused")
    demo.click("text=Start repeated update")
    expect(note).to_contain_text("Paused until Stop")
    expect(demo.locator("#data-table")).to_have_class(re.compile(r"\bpaused\b"))
    # meanwhile the points have a layer of their own and the regions are painted on the canvas beneath them:
    # inside each class's region (its polygon's centre) the canvas has that class's region colour
    demo.wait_for_function("() => !document.getElementById('regions-points').hidden && !document.getElementById('regions-live').hidden")
    demo.click("text=Stop repeated update")
    painted = demo.evaluate(PAINTED)
    assert painted["classes"] == 5 and painted["mismatches"] == [], painted
    demo.wait_for_function("() => document.getElementById('regions-live').hidden")
    expect(note).not_to_contain_text("Paused")
    expect(demo.locator("#data-table")).not_to_have_class(re.compile(r"\bpaused\b"))
    state = session_state(demo, live_server)
    expect(demo.locator("#step-count")).to_have_text(f"{state['step']:,}".replace(",", ""))
    mean = np.mean(state["losses"])
    expect(demo.locator("#data-table tfoot td.loss-col span").last).to_have_text(f"{mean:.2f}")
    assert demo.evaluate("document.getElementById('regions-points').hidden")  # one layer again, the heatmap back
    assert demo.evaluate("document.getElementById('regions').data[0].type") == "heatmap"
