"""The default state through the API carries the hand-checked numbers."""

import pytest


def test_new_session_has_the_default_numbers(session):
    assert session["loss"] == pytest.approx(6.2667, abs=1e-4)
    assert session["losses"] == pytest.approx([0.3, 1.7, 0, 3.2, 6.8, 2.4, 2.5, 3.3, 4.7], abs=1e-12)
    assert session["W"] == [[1, 2], [2, -4], [3, -1]] and session["b"] == [0, 0.5, -0.5]
    assert session["step"] == 0 and session["history"] == [session["loss"]] and session["history_start"] == 0
