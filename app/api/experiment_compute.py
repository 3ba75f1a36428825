"""Where each image-experiment computation runs: through the sessions' bounded compute pool
(:mod:`app.api.compute`), under the same rules.

* The cost model estimates the request's compute from the loss evaluations it makes (points × classes ×
  pixels); under ``INLINE_SECONDS`` it runs on the event loop at once, else in a worker thread holding one of
  the pool's slots, and a full queue answers 503 with ``Retry-After`` at once.
* A step request stops before the next step once the request's compute budget (``compute_budget``) is spent,
  and the response says how many steps were taken. A client that disconnects stops it too, even within one
  numerical-gradient step (1,301 loss evaluations on digits, about a second): that step is dropped. Either
  way the experiment keeps the steps it took and is consistent.
* The gradient check is a lab computation (``lab_budget``, stopped between chunks); loading a dataset,
  creating, resetting and evaluating an experiment cannot be cut short but are bounded by the pool too.
"""

from functools import partial

from app.core import images
from app.core.experiment import Experiment


def step_evaluations(e, data):
    """``[(count, points)]``: the loss evaluations one step of ``e``'s optimizer makes on ``data``."""
    n, optimizer = len(data.train.y), e.settings.optimizer
    if optimizer == "sgd":  # the minibatch's loss only (no full pass: see Experiment.problem)
        return [(1, min(e.settings.batch_size, n))]
    if optimizer == "numerical":
        return [(2 * (e.W.size + e.b.size) + 1, n), (1, n)]
    return [(1, n)]


def fixed_evaluations(e, data):
    """What a request that trains or resets costs besides its steps: the full loss at the start (not for sgd)
    and the accuracies at the end (predictions on the training sample and the validation split)."""
    start = [] if e.settings.optimizer == "sgd" else [(1, len(data.train.y))]
    return start + [(1, len(data.sample) + len(data.val.y))]


def _seconds(pool, data, evaluations):
    return pool.model.seconds(evaluations, len(data.spec.classes), data.spec.dims)


async def run_steps(request, e, data, steps):
    """Up to ``steps`` steps of ``e`` (see the module's rules); returns how many were taken."""
    pool = request.app.state.compute
    per_step = _seconds(pool, data, step_evaluations(e, data))
    seconds = _seconds(pool, data, fixed_evaluations(e, data)) + steps * per_step

    def job(stop):
        return e.run(data, steps, stop=stop, abort=stop.gone if stop is not None else None)

    return await pool.call(request, seconds, job)


def _fresh(pool, data):
    """A new start: the full training loss and the accuracies."""
    return _seconds(pool, data, [(1, len(data.train.y)), (1, len(data.sample) + len(data.val.y))])


async def create(request, data, seed, changes):
    pool = request.app.state.compute
    return await pool.call(request, _fresh(pool, data), lambda stop: Experiment.create(data, seed, **changes))


async def reset(request, e, data, seed):
    pool = request.app.state.compute
    await pool.call(request, _fresh(pool, data), lambda stop: e.reset(data, seed))


async def evaluate(request, e, data, split):
    pool = request.app.state.compute
    seconds = _seconds(pool, data, [(1, len(data.split(split).y))])
    return await pool.call(request, seconds, lambda stop: e.evaluate(data, split))


async def gradient_check(request, snapshot, data, count, seed):
    """A lab computation: in a worker thread, stopped between chunks; 503 beyond ``lab_budget``."""
    return await request.app.state.compute.lab(request, partial(snapshot.gradient_check, data, count, seed))


async def load(request, name, folder):
    """The dataset's first load (seconds: scikit-learn's import, CIFAR-10's pickles) in a worker thread."""
    return await request.app.state.compute.run(request, lambda stop: images.get(name, folder))
