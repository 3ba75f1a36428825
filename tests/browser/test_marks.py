"""The loss curve's change marks and the gradient check's stale mark, in a real browser."""

from playwright.sync_api import expect

AXES = "() => { const l = document.getElementById('loss-axes').layout; return { shapes: l.shapes ?? [], labels: (l.annotations ?? []).map((a) => [a.x, a.text]) }; }"


def test_changes_of_lambda_and_loss_are_marked_on_the_curve(demo):
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("1")
    demo.click("#reg-value")
    demo.locator(".num-input").fill("1")
    demo.keyboard.press("Enter")
    expect(demo.locator("#reg-value")).to_have_text("1.00000")
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("2")
    demo.select_option("#loss-type", "softmax")
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("3")
    demo.wait_for_function("() => (document.getElementById('loss-axes').layout.annotations ?? []).length === 2")
    marks = demo.evaluate(AXES)
    assert sorted(marks["labels"]) == [[1, "λ 1"], [2, "loss softmax"]]
    rules = [(s["x0"], s["x1"], s["yref"], s["line"]["dash"]) for s in marks["shapes"]]
    assert rules == [(1, 1, "paper", "dash"), (2, 2, "paper", "dash")]
    demo.select_option("#optimizer", "sgd")
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("4")
    demo.wait_for_function("() => document.getElementById('loss-axes').layout.annotations.length === 3")
    assert [3, "gd→sgd"] in demo.evaluate(AXES)["labels"]
    demo.click("#step-size-value")
    demo.locator(".num-input").fill("0.5")
    demo.keyboard.press("Enter")
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("5")
    demo.wait_for_function("() => document.getElementById('loss-axes').layout.annotations.length === 4")
    assert [4, "η 0.5"] in demo.evaluate(AXES)["labels"]  # the step size, not a step number


def test_many_changes_are_thinned_into_legible_labels(demo):
    marks = demo.evaluate("""async () => {
      const { changeMarks } = await import('/static/js/markers.js');
      const changes = Array.from({ length: 100 }, (_, i) => ({ step: 10 * i, what: 'reg', value: i / 100 }));
      return changeMarks(changes, [{ start: 0, optimizer: 'gd' }], [0, 1000], 300, 14);
    }""")
    assert len(marks["shapes"]) == 100  # 3 px apart: every rule fits
    labels = marks["annotations"]
    assert 0 < len(labels) < 20 and labels[0]["x"] == 990  # the latest change keeps its label
    # within each row, no two labels overlap (width estimated as the module does, 0.58 em a character)
    size = labels[0]["font"]["size"]
    for row in {a["yshift"] for a in labels}:
        spans = sorted(
            (a["x"] * 0.3 - (w if a["xanchor"] == "right" else 0), a["x"] * 0.3 + (0 if a["xanchor"] == "right" else w))
            for a in labels if a["yshift"] == row for w in [len(a["text"]) * size * 0.58 + 8])
        assert all(b[0] >= a[1] for a, b in zip(spans, spans[1:]))
    crowded = demo.evaluate("""async () => {
      const { changeMarks } = await import('/static/js/markers.js');
      const changes = Array.from({ length: 100 }, (_, i) => ({ step: i, what: 'data', value: 9 }));
      return changeMarks(changes, [], [0, 100], 60, 14).shapes.length;
    }""")
    assert crowded == 20  # at most one rule per 3 px of a 60 px plot


def test_the_gradient_check_is_marked_stale_after_any_change(demo):
    stale = demo.locator("#gradcheck-stale")
    run = demo.locator("#btn-gradcheck")
    run.click()
    expect(demo.locator("#gradcheck-verdict")).to_contain_text("correct")
    expect(stale).to_be_hidden()
    demo.click("#btn-step")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("stale — run again")
    expect(demo.locator("#gradcheck-panel")).to_have_class("lab-panel stale")
    run.click()
    expect(stale).to_be_hidden()
    expect(demo.locator("#gradcheck-panel")).to_have_class("lab-panel")
    demo.click(".advanced summary")
    demo.check("input[name=reg-gradient][value=original]")
    expect(stale).to_be_visible()
    run.click()
    expect(demo.locator("#gradcheck-verdict")).to_contain_text("4× smaller")
    expect(stale).to_be_hidden()
    demo.check("input[name=reg-gradient][value=exact]")
    expect(stale).to_be_visible()  # "Wrong for W…" is still shown, but marked
    run.click()
    expect(demo.locator("#gradcheck-verdict")).to_contain_text("correct")
    demo.click("#btn-reset")
    expect(stale).to_be_visible()


def test_the_marks_are_not_redrawn_by_steps_only_by_changes(demo):
    demo.select_option("#loss-type", "softmax")
    demo.click("#btn-step")
    expect(demo.locator("#step-count")).to_have_text("1")
    demo.wait_for_function("() => (document.getElementById('loss-axes').layout.annotations ?? []).length === 1")
    demo.evaluate("""() => {
      window.axesDraws = 0;
      const react = Plotly.react;
      Plotly.react = (div, ...rest) => { if (div.id === 'loss-axes') window.axesDraws++; return react(div, ...rest); };
    }""")
    for n in range(2, 7):  # steps inside the x range [0, 10]: the axes layer and its marks stay as they are
        demo.click("#btn-step")
        expect(demo.locator("#step-count")).to_have_text(str(n))
    assert demo.evaluate("window.axesDraws") == 0
    demo.select_option("#loss-type", "svm_ww")
    demo.wait_for_function("() => window.axesDraws === 1")
    assert [6, "loss WW SVM"] in demo.evaluate(AXES)["labels"]
