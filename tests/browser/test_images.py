"""The image page in a real browser: it trains on the digits with its defaults, draws the ten templates, shows
the cost of a step, errors beside their field, the gradient check; no console errors."""

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def lab(page, live_server, console):
    """/images, loaded, its templates drawn; afterwards, asserts nothing went wrong in it."""
    page.goto(live_server + "/images")
    page.wait_for_function("() => window.app && window.app.frames > 0", timeout=60_000)  # the first load of digits
    yield page
    assert console == []


def server_state(page, live_server):
    return httpx.get(f"{live_server}/api/experiments/{page.evaluate('window.app.id')}").json()


def percent(page, selector):
    return float(page.inner_text(selector).split()[0])


# Read through a copy made for reading: reading the page's canvases themselves makes Chrome warn about readbacks.
TEMPLATE_PIXELS = """() => [...document.querySelectorAll('#templates canvas')].map((c) => {
  const copy = document.createElement('canvas');
  copy.width = c.width;
  copy.height = c.height;
  const ctx = copy.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(c, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const grey = [];
  for (let i = 0; i < d.length; i += 4) grey.push(d[i]);
  return grey;
})"""


def test_run_with_the_defaults_trains_the_digits_to_90_percent(lab, live_server):
    expect(lab.locator("#step-count")).to_have_text("0")
    assert lab.input_value("#optimizer") == "gd" and lab.input_value("#dataset") == "digits"
    before = lab.evaluate(TEMPLATE_PIXELS)
    lab.click("#btn-run")
    expect(lab.locator("#btn-stop")).to_be_enabled()
    lab.wait_for_function("() => parseFloat(document.getElementById('val-accuracy').textContent) >= 90", timeout=30_000)
    lab.click("#btn-stop")
    expect(lab.locator("#btn-run")).to_be_enabled()
    lab.wait_for_timeout(500)  # an answer already on its way is still drawn
    state = server_state(lab, live_server)
    assert state["val_accuracy"] >= 0.9 and state["step"] == int(lab.inner_text("#step-count")) > 0
    assert percent(lab, "#val-accuracy") == pytest.approx(100 * state["val_accuracy"], abs=0.05)
    after = lab.evaluate(TEMPLATE_PIXELS)
    assert len(after) == 10 and all(len(t) == 64 for t in after)
    assert all(max(t) > min(t) for t in after) and after != before  # ten pictures, redrawn as it trained
    templates = httpx.get(f"{live_server}/api/experiments/{state['id']}/templates").json()["images"]
    assert after == [[v for row in t for v in row] for t in templates]
    expect(lab.locator("#test-accuracy")).not_to_have_text("")
    lab.wait_for_function("() => parseFloat(document.getElementById('test-accuracy').textContent) >= 90")
    assert lab.locator("#confusion .hm, #confusion .heatmaplayer").count() >= 1
    assert lab.locator("#image-grid figure").count() == 24
    SCREENSHOTS.mkdir(exist_ok=True)
    lab.screenshot(path=SCREENSHOTS / "images-trained.png", full_page=True)


def test_step_reset_and_the_cost_of_each_optimizer(lab, live_server):
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("1")
    expect(lab.locator("#cost")).to_contain_text("1 loss evaluation,")
    lab.select_option("#optimizer", "numerical")
    lab.wait_for_function("() => window.app.view.state.optimizer === 'numerical'")
    # before its first step, the cost shown is gradient descent's, and named so; the lecture table waits
    expect(lab.locator("#cost")).to_contain_text("Cost of the last step (gradient descent): 1 loss evaluation,")
    expect(lab.locator("#ours-numerical")).to_have_text("run it to see")
    expect(lab.locator("#ours-gd")).to_contain_text("1 loss evaluation,")
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("2")
    expect(lab.locator("#cost")).to_contain_text("Cost of the last step: 1,301 loss evaluations")  # 2·P + 1, P = 10·65
    expect(lab.locator("#ours-numerical")).to_contain_text("1,301 loss evaluations")
    lab.select_option("#optimizer", "random_search")
    lab.wait_for_function("() => window.app.view.state.optimizer === 'random_search'")
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("3")
    assert server_state(lab, live_server)["search"]["tries"] == 1
    assert [s["optimizer"] for s in server_state(lab, live_server)["segments"]] == ["gd", "numerical", "random_search"]
    lab.click("#btn-reset")
    expect(lab.locator("#step-count")).to_have_text("0")
    assert server_state(lab, live_server)["step"] == 0


def test_a_rejected_value_is_shown_beside_its_field_and_changes_nothing(lab, live_server, console):
    lab.fill("#step-size", "-1")
    lab.locator("#step-size").blur()
    expect(lab.locator("#field-error")).to_contain_text("step_size")
    lab.wait_for_timeout(200)
    expected = [c for c in console if "422" in c]  # the refusal itself, as the browser reports it
    assert len(expected) == len(console) and any(c.startswith("HTTP 422") for c in expected)
    console.clear()
    expect(lab.locator("#step-size")).to_have_attribute("aria-invalid", "true")
    assert server_state(lab, live_server)["step_size"] == 0.3
    lab.fill("#step-size", "0.1")
    lab.locator("#step-size").blur()
    expect(lab.locator("#field-error")).to_have_text("")
    lab.wait_for_function("() => window.app.view.state.step_size === 0.1")
    assert server_state(lab, live_server)["step_size"] == 0.1


def test_the_gradient_check_panel(lab):
    lab.click("#btn-gradcheck")
    expect(lab.locator("#gradcheck-table tbody tr")).to_have_count(20, timeout=20_000)
    expect(lab.locator("#gradcheck-verdict")).to_contain_text("agrees at 20 sampled parameters")


def test_cifar10_is_listed_unavailable_with_its_hint(lab):
    option = lab.locator("#dataset option[value=cifar10]")
    expect(option).to_be_disabled()
    expect(option).to_have_text("cifar10 (unavailable)")
    expect(lab.locator("#dataset-hint")).to_contain_text("LINCLASS_CIFAR10_DIR")


def test_the_pages_link_to_each_other(page, live_server, console):
    page.goto(live_server + "/")
    page.click("text=Linear classifiers on real images")
    expect(page).to_have_url(live_server + "/images")
    page.wait_for_function("() => window.app && window.app.frames > 0", timeout=60_000)
    page.click("text=The 2-D loss demo")
    expect(page.locator("#total-loss")).to_have_text("6.27")
    assert console == []


def test_the_controls_work_from_the_keyboard(lab):
    lab.focus("#btn-step")
    lab.keyboard.press("Enter")
    expect(lab.locator("#step-count")).to_have_text("1")
    lab.focus("#loss-type")
    lab.keyboard.press("ArrowDown")  # to the next loss
    lab.wait_for_function("() => window.app.view.state.loss_type === 'svm_ova'")
    for selector in ("#dataset", "#loss-type", "#optimizer", "#step-size", "#reg", "#batch-size", "#search-scale",
                     "#steps-per-frame"):
        label = lab.locator(f"label[for={selector[1:]}]")
        expect(label).to_have_count(1)


def test_cifar10_from_a_folder_in_colour_and_its_numerical_gradient_refused(page, start_server, tmp_path, monkeypatch,
                                                                             console):
    from app.config import Config
    from tests import fake_cifar

    fake_cifar.write(tmp_path / "cifar-10-batches-py", per_batch=40, n_test=40)
    monkeypatch.setenv("LINCLASS_CIFAR10_DIR", str(tmp_path / "cifar-10-batches-py"))
    url = start_server(Config())
    page.goto(url + "/images")
    page.wait_for_function("() => window.app && window.app.frames > 0", timeout=60_000)
    expect(page.locator("#dataset option[value=cifar10]")).to_be_enabled()
    page.select_option("#dataset", "cifar10")
    page.wait_for_function("() => window.app.view.state.dataset === 'cifar10' && window.app.frames > 1", timeout=60_000)
    expect(page.locator("#templates figcaption")).to_have_text(fake_cifar.NAMES)
    sizes = page.evaluate("() => [...document.querySelectorAll('#templates canvas')].map((c) => [c.width, c.height])")
    assert sizes == [[32, 32]] * 10
    expect(page.locator("#dataset-hint")).to_contain_text("180 training, 20 validation, 40 test images")
    page.click("#btn-step")
    expect(page.locator("#step-count")).to_have_text("1")
    page.select_option("#optimizer", "numerical")
    expect(page.locator("#field-error")).to_contain_text("61,461 loss evaluations")
    assert page.input_value("#optimizer") == "sgd"  # what the experiment still uses
    assert [c for c in console if "422" not in c] == []


def test_a_dataset_that_fails_to_load_leaves_the_picker_on_the_experiments_own(page, start_server, tmp_path,
                                                                              monkeypatch):
    from app.config import Config
    from tests import fake_cifar

    folder = tmp_path / "cifar-10-batches-py"
    fake_cifar.write(folder, per_batch=40, n_test=40)
    (folder / "data_batch_3").write_bytes(b"not a pickle")  # every file there, one unreadable
    monkeypatch.setenv("LINCLASS_CIFAR10_DIR", str(folder))
    page.goto(start_server(Config()) + "/images")
    page.wait_for_function("() => window.app && window.app.frames > 0", timeout=60_000)
    expect(page.locator("#dataset option[value=cifar10]")).to_be_enabled()  # listed before anyone tried it
    page.select_option("#dataset", "cifar10")
    expect(page.locator("#status")).to_contain_text("could not be loaded")
    expect(page.locator("#dataset")).to_have_value("digits")  # what the experiment still is
    expect(page.locator("#dataset option[value=cifar10]")).to_have_text("cifar10 (unavailable)")
    expect(page.locator("#dataset-hint")).to_contain_text("cifar10 is unavailable")
    page.click("#btn-step")
    expect(page.locator("#step-count")).to_have_text("1")
    assert page.evaluate("window.app.view.state.dataset") == "digits"


def test_the_lecture_table_counts_each_optimizers_own_steps(lab):
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("1")
    lab.select_option("#optimizer", "numerical")
    lab.wait_for_function("() => window.app.view.state.optimizer === 'numerical'")
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("2")
    expect(lab.locator("#ours-numerical")).to_contain_text("test after 1 of its steps (2 in all)")
    expect(lab.locator("#ours-gd")).to_contain_text("test after 1 of its steps;")  # all of them: no "in all"


def test_templates_and_mistakes_are_named_for_a_screen_reader(lab):
    labels = lab.eval_on_selector_all("#templates canvas", "(cs) => cs.map((c) => [c.getAttribute('role'), c.ariaLabel])")
    assert labels == [["img", f"weight template of class {k}"] for k in range(10)]
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("1")
    lab.check("#mistakes-only")
    lab.wait_for_function("() => document.querySelectorAll('#image-grid figure').length > 0 && "
                          "[...document.querySelectorAll('#image-grid figure')].every((f) => f.classList.contains('wrong'))")
    wrong = lab.eval_on_selector_all("#image-grid figure", """(fs) => fs.map((f) => [
      f.querySelector('figcaption').textContent, f.querySelector('canvas').ariaLabel,
      getComputedStyle(f.querySelector('canvas')).borderTopStyle])""")
    mistakes = httpx.get(f"{lab.url.rsplit('/', 1)[0]}/api/experiments/{lab.evaluate('window.app.id')}/evaluate",
                         params={"split": "test"}).json()["mistakes"]
    assert len(wrong) == min(len(mistakes), 24)
    for (caption, spoken, border), m in zip(wrong, mistakes):  # a ✗, words and a dashed frame, not colour alone
        assert caption == f"✗ {m['predicted']} (is {m['label']})"
        assert spoken == f"test image {m['index']}: a {m['label']}, classified as {m['predicted']}, wrong"
        assert border == "dashed"


def test_a_settings_change_repaints_no_template(lab):
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("1")
    lab.wait_for_timeout(300)
    frames = lab.evaluate("window.app.frames")
    lab.fill("#reg", "0.01")
    lab.locator("#reg").blur()
    lab.wait_for_function("() => window.app.view.state.reg === 0.01")
    lab.wait_for_timeout(300)
    assert lab.evaluate("window.app.frames") == frames  # the same W: its pictures stay as they are
    lab.click("#btn-step")
    expect(lab.locator("#step-count")).to_have_text("2")
    lab.wait_for_function(f"() => window.app.frames === {frames + 1}")


def run_until_trained(page):
    page.click("#btn-run")
    page.wait_for_function("() => window.app.view.state.step >= 300", timeout=60_000)
    page.click("#btn-stop")
    expect(page.locator("#btn-run")).to_be_enabled()


def gradient_checked(page):
    page.click("#btn-gradcheck")
    expect(page.locator("#gradcheck-table tbody tr")).to_have_count(20, timeout=20_000)


AUDITED = {
    "default": lambda page: None,
    "trained, mistakes only": lambda page: (run_until_trained(page), page.check("#mistakes-only")),
    "gradient checked": gradient_checked,
}


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["1280", "phone"])
@pytest.mark.parametrize("state", list(AUDITED))
def test_no_serious_or_critical_accessibility_violations(lab, state, viewport):
    from tests.browser.test_accessibility import serious

    lab.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    AUDITED[state](lab)
    lab.wait_for_timeout(500)
    assert serious(lab) == []
