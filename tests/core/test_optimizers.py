"""The four optimizers of "Basic optimization", each against an independent expectation."""

import numpy as np
import pytest

from app.core import datasets, optimizers
from app.core.losses import LOSS_TYPES
from app.core.model import default_params, evaluate, total_loss
from app.core.optimizers import OPTIMIZERS, Problem
from app.core.trainer import Trainer

X, Y = datasets.original()


def problem(X=X, y=Y, **changes):
    settings = dict(reg=0.1, loss_type="svm_ww", reg_gradient="exact", step_size=0.1, batch_size=4, h=1e-4,
                    search_scale=1.0)
    return Problem(X, y, **{**settings, **changes})


def run(p, optimizer, steps, seed=0, W=None, b=None):
    """``steps`` steps of ``optimizer`` from the defaults (or W, b); returns (W, b, [Step, …])."""
    W, b = default_params() if W is None else (W, b)
    ev, rng, out = p.evaluate(W, b), np.random.default_rng(seed), []
    for _ in range(steps):
        st = OPTIMIZERS[optimizer](p, W, b, ev, rng)
        W, b, ev = st.W, st.b, st.ev
        out.append(st)
    return W, b, out


def test_one_gd_step_is_the_analytic_update():
    W, b, (st,) = run(problem(), "gd", 1)
    np.testing.assert_allclose(W, [[1.023333333, 1.963333333], [1.918888889, -3.882222222],
                                   [2.937777778, -1.021111111]], atol=1e-9)
    np.testing.assert_allclose(b, [-0.011111111, 0.511111111, -0.5], atol=1e-9)
    assert st.loss_evals == 1 and st.batch is None and st.accepted
    assert st.ev.loss == pytest.approx(6.000295308642, abs=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_numerical_gradient_descent_follows_analytic_gd_on_softmax(reg):
    p = problem(loss_type="softmax", reg=reg, step_size=0.3)
    W_a, b_a, _ = run(p, "gd", 25)
    W_n, b_n, steps = run(p, "numerical", 25)
    np.testing.assert_allclose(W_n, W_a, atol=1e-6, rtol=0)
    np.testing.assert_allclose(b_n, b_a, atol=1e-6, rtol=0)
    assert np.abs(W_a - default_params()[0]).max() > 0.1  # the parameters did move


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_numerical_costs_two_loss_evaluations_per_parameter_plus_one(classes):
    rng = np.random.default_rng(classes)
    Xc, yc = datasets.make("blobs", rng, 4, classes)
    p = problem(X=Xc, y=yc)
    W, b = rng.normal(size=(classes, 2)), rng.normal(size=classes)
    _, _, (st,) = run(p, "numerical", 1, W=W, b=b)
    assert st.loss_evals == 2 * (3 * classes) + 1


def test_numerical_gradient_restores_theta_and_matches_a_quadratic():
    theta = np.array([1.5, -2.0, 0.25])
    before = theta.copy()
    grad = optimizers.numerical_gradient(lambda t: (t * t).sum() + 3 * t[0], theta, 1e-3)
    np.testing.assert_array_equal(theta, before)
    np.testing.assert_allclose(grad, 2 * before + [3, 0, 0], rtol=1e-10)  # exact for a quadratic


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_sgd_with_the_whole_batch_is_gradient_descent(loss_type):
    p = problem(loss_type=loss_type, batch_size=len(Y))
    W_g, b_g, _ = run(p, "gd", 50)
    W_s, b_s, steps = run(p, "sgd", 50, seed=3)
    np.testing.assert_allclose(W_s, W_g, atol=1e-12, rtol=0)
    np.testing.assert_allclose(b_s, b_g, atol=1e-12, rtol=0)
    assert all(st.batch.tolist() == list(range(len(Y))) for st in steps)


@pytest.mark.parametrize("batch_size, size", [(1, 1), (4, 4), (9, 9), (10, 9), (100_000, 9)])
def test_sgd_batch_sizes_clamp_to_n(batch_size, size):
    p = problem(batch_size=batch_size)
    _, _, (st,) = run(p, "sgd", 1, seed=11)
    assert len(st.batch) == size and len(set(st.batch.tolist())) == size
    assert st.batch.tolist() == sorted(st.batch.tolist()) and 0 <= st.batch.min() and st.batch.max() < len(Y)
    assert st.loss_evals == 2


def test_sgd_steps_along_the_minibatch_gradient_only():
    p = problem(batch_size=3)
    W0, b0 = default_params()
    W, b, (st,) = run(p, "sgd", 1, seed=5)
    g = evaluate(W0, b0, X[st.batch], Y[st.batch], 0.1, "svm_ww")
    np.testing.assert_allclose(W, W0 - 0.1 * g.dW, atol=1e-15)
    np.testing.assert_allclose(b, b0 - 0.1 * g.db, atol=1e-15)
    assert st.ev.loss == pytest.approx(total_loss(W, b, X, Y, 0.1, "svm_ww"), abs=1e-12)  # full-batch loss


def test_sgd_is_reproducible_by_seed_and_differs_between_seeds():
    p = problem(batch_size=2)
    W1, b1, s1 = run(p, "sgd", 20, seed=1)
    W2, b2, s2 = run(p, "sgd", 20, seed=1)
    W3, _, s3 = run(p, "sgd", 20, seed=2)
    np.testing.assert_array_equal(W1, W2)
    assert [s.batch.tolist() for s in s1] == [s.batch.tolist() for s in s2]
    assert [s.batch.tolist() for s in s1] != [s.batch.tolist() for s in s3]


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_random_search_never_increases_the_loss(loss_type):
    p = problem(loss_type=loss_type)
    _, _, steps = run(p, "random_search", 500, seed=4)
    losses = [p.loss(*default_params())] + [st.ev.loss for st in steps]
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    assert 0 < sum(st.accepted for st in steps) < 500
    for prev, st in zip(losses, steps):  # an accepted draw is a strict decrease, a rejected one no change
        assert (st.ev.loss < prev) == st.accepted
    assert all(st.loss_evals == 1 for st in steps)


def test_random_search_keeps_a_draw_exactly_when_it_lowers_the_loss():
    p = problem(search_scale=0.7)
    _, _, steps = run(p, "random_search", 300, seed=6)
    draws, best = np.random.default_rng(6), p.loss(*default_params())
    for st in steps:  # replay the draws W, b ~ scale · N(0, 1) from the same generator
        W_try, b_try = 0.7 * draws.standard_normal((3, 2)), 0.7 * draws.standard_normal(3)
        tried = p.loss(W_try, b_try)
        assert st.accepted == (tried < best)
        best = min(best, tried)
        assert st.ev.loss == best
    assert sum(st.accepted for st in steps) >= 2  # some draws were kept, most were not


def test_a_rejected_random_draw_keeps_the_parameters():
    p = problem(search_scale=1000.0)  # draws this wide always regularize to a huge loss
    W0, b0 = default_params()
    W, b, steps = run(p, "random_search", 30, seed=0)
    assert not any(st.accepted for st in steps)
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_array_equal(b, b0)


def test_random_search_counts_tries_and_accepted_in_the_trainer():
    t = Trainer.create(seed=9, optimizer="random_search")
    t.run(200)
    t.run(100)
    decreases = sum(b < a for a, b in zip(t.history, t.history[1:]))
    assert t.tries == 300 and t.accepted == decreases and 0 < t.accepted < 300
    assert t.history == sorted(t.history, reverse=True)


def test_tries_are_counted_only_while_searching():
    t = Trainer.create(seed=9, optimizer="gd")
    t.run(10)
    assert (t.tries, t.accepted) == (0, 0)
    t.update(optimizer="random_search")
    t.run(10)
    assert t.tries == 10
