"""Where a request's computation runs, so that no request holds the event loop for more than a few ms.

* A measured cost model estimates what a run of steps costs: a fixed cost per loss evaluation (Python and
  NumPy call overhead, which dominates small sessions) plus a cost per score (points × classes), and for
  the image experiments one per multiply-add of the scores (points × classes × pixels), all timed once per
  process on this machine. It is not rescaled by later runs: on a loaded machine every run is
  slower, and sending cheap steps to the pool would then only add a thread hop and fill the queue.
* Runs estimated under ``INLINE_SECONDS`` are computed on the event loop at once (a thread hop costs more
  than they do). Longer runs of cheap steps are taken on the loop in slices of ``SLICE_SECONDS``, yielding
  to other requests between them; steps that are each costly (large data: NumPy, which releases the GIL)
  run in a worker thread, as do the lab's computations. Either kind holds one of ``compute_workers`` slots;
  ``compute_queue`` more requests may wait for one, and beyond that the request is answered 503 with
  ``Retry-After`` at once (:class:`Busy`).
* Work in the pool stops at the next step or chunk when its client disconnects or when the request's
  compute budget is spent (``compute_budget`` seconds for steps, ``lab_budget`` for a loss surface, line or
  gradient check, which cannot be cut short): steps beyond it are not taken (the response says how many
  were), a lab computation is abandoned (503). Either way the session stays consistent: a run of steps
  commits the steps it took, a lab computation changes nothing.
* The workers run at a lower CPU priority (nice ``WORKER_NICE``) than the event loop's thread, so that on a
  busy core the kernel still gives the loop its time slices at once.
* A failed allocation (``MemoryError``) answers 503 rather than 500.
"""

import asyncio
import functools
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import numpy as np

from app.api.responses import JSON
from app.core.chunks import Stopped
from app.core.model import evaluate
from app.core.trainer import Trainer

INLINE_SECONDS = 0.002  # estimated compute done on the event loop at once; the response adds a little
SLICE_SECONDS = 0.001  # a slice of a long run of cheap steps, between which the loop serves others
WORKER_NICE = 10
# With the default 5 ms, a worker thread running many small NumPy calls keeps the GIL for up to 5 ms each
# time the event loop wakes up; 1 ms bounds what the loop waits for it.
SWITCH_INTERVAL = 0.001


class Busy(Exception):
    """The compute pool's queue is full."""


class OverBudget(Exception):
    """A lab computation ran past the request's compute budget and was abandoned."""


class CostModel:
    """Seconds a step takes: ``Σ evaluations × (per_call + points × classes × (per_score + dims × per_madd))``;
    ``per_madd`` counts only beyond the 2-D sessions' two dimensions, which ``per_score`` includes."""

    def __init__(self, per_call, per_score, per_madd=0.0):
        self.per_call, self.per_score, self.per_madd = per_call, per_score, per_madd

    @classmethod
    def measured(cls):
        """Time gradient-descent steps on one point and on 10,000 points × 10 classes (best of several)."""
        def best(t, steps, rounds=5):
            t.run(steps)
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                t.run(steps)
                times.append((time.perf_counter() - t0) / steps)
            return min(times)

        rng = np.random.default_rng(0)
        small = Trainer.create(seed=0, X=[[0.5, 0.5]], y=[0])
        large = Trainer.create(seed=0, X=rng.uniform(-1, 1, (10_000, 2)), y=rng.integers(0, 10, 10_000),
                               W=rng.normal(0, 1, (10, 2)), b=np.zeros(10))
        per_call = best(small, 50)
        per_score = max(best(large, 3) - per_call, 0.0) / (10_000 * 10)
        # images: 2,000 points of 256 float32 pixels, 10 classes (one loss and gradient, as a gd step)
        X, y = rng.standard_normal((2000, 256)).astype(np.float32), rng.integers(0, 10, 2000)
        W = rng.normal(0, 1e-3, (10, 256))
        evaluations = []
        for _ in range(5):
            t0 = time.perf_counter()
            evaluate(W, np.zeros(10), X, y, 1e-3)
            evaluations.append(time.perf_counter() - t0)
        per_madd = max(min(evaluations) - per_call - per_score * 2000 * 10, 0.0) / (2000 * 10 * 256)
        return cls(per_call, per_score, per_madd)

    @staticmethod
    def evaluations(optimizer, points, params, batch_size):
        """``[(count, points)]``: the loss evaluations one step of ``optimizer`` makes on a session of ``points``
        points and ``params`` parameters."""
        if optimizer == "sgd":
            return [(1, min(batch_size, points)), (1, points)]
        if optimizer == "numerical":
            return [(2 * params + 1, points)]
        return [(1, points)]

    def step_seconds(self, t):
        """What one step of ``t``'s optimizer costs. Asked on every step request, so remembered for the last 256
        shapes of session (each a few numbers)."""
        s = t.settings
        return self._step_seconds(s.optimizer, len(t.y), len(t.b), t.W.size + t.b.size, s.batch_size)

    @functools.lru_cache(maxsize=256)
    def _step_seconds(self, optimizer, points, classes, params, batch_size):
        return self.seconds(self.evaluations(optimizer, points, params, batch_size), classes)

    def seconds(self, evaluations, classes, dims=2):
        """What ``[(count, points)]`` loss evaluations with ``classes`` classes in ``dims`` dimensions cost."""
        per_point = classes * (self.per_score + max(dims - 2, 0) * self.per_madd)
        return sum(count * (self.per_call + per_point * points) for count, points in evaluations)


class StopWhen:
    """Called between steps or chunks: true once the client has gone or the compute budget is spent."""

    def __init__(self, budget):
        self.budget, self.deadline, self.disconnected = budget, math.inf, False

    def start(self):
        """The budget counts from here, when a worker takes the job (not while it waits in the queue)."""
        self.deadline = time.monotonic() + self.budget

    def __call__(self):
        return self.disconnected or time.monotonic() > self.deadline

    def gone(self):
        """Only the client's going: what may cut one long step short (the budget waits for it to end)."""
        return self.disconnected


class ComputePool:
    """At most ``workers`` heavy computations at a time, ``queue`` more waiting, the rest refused (:class:`Busy`).

    A computation runs in a worker thread, or, for a run of many cheap steps, on the event loop in slices
    (Python-bound work in a thread would hold the GIL against the loop; in slices of ``SLICE_SECONDS`` the loop
    serves everyone else between them). Either way it holds one of the ``workers`` slots while it runs.
    """

    _model = None  # measured once per process (tests build many apps)

    def __init__(self, workers, queue, budget, lab_budget):
        self.budget, self.lab_budget, self.capacity, self.pending = budget, lab_budget, workers + queue, 0
        self.slots = asyncio.Semaphore(workers)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="compute",
                                           initializer=_lower_priority)
        if ComputePool._model is None:
            ComputePool._model = CostModel.measured()
        self.model = ComputePool._model
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))

    @asynccontextmanager
    async def _slot(self, request, budget):
        """A place in the queue, then a slot; yields the job's :class:`StopWhen`, its budget counting from now."""
        if self.pending >= self.capacity:
            raise Busy
        self.pending += 1
        stop = StopWhen(budget)
        watcher = asyncio.ensure_future(_watch_disconnect(request, stop))
        try:
            async with self.slots:
                stop.start()
                yield stop
        finally:
            self.pending -= 1
            watcher.cancel()

    async def run(self, request, fn, *args, budget=None):
        """``fn(*args, stop=…)`` in a worker thread; ``stop()`` turns true when ``request``'s client disconnects
        or the budget is spent."""
        async with self._slot(request, budget or self.budget) as stop:
            future = asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args, stop=stop))
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:  # the server is stopping: let the worker finish its chunk first
                stop.disconnected = True
                await asyncio.wait([future])
                raise

    async def call(self, request, seconds, fn, *args):
        """``fn(*args, stop=…)``: at once if the estimated ``seconds`` are short (``stop`` is then None), else in a
        worker thread (:meth:`run`)."""
        if seconds <= INLINE_SECONDS:
            return fn(*args, stop=None)
        return await self.run(request, fn, *args)

    async def run_steps(self, request, t, steps):
        """``t.run(steps)``: at once if the cost model says it is short, in slices on the loop if each step is
        cheap, else in a worker thread; returns the steps taken."""
        per_step = self.model.step_seconds(t)
        if steps * per_step <= INLINE_SECONDS:
            return t.run(steps)
        if per_step > SLICE_SECONDS:
            return await self.run(request, lambda stop: t.run(steps, stop=stop))
        async with self._slot(request, self.budget) as stop:
            taken, size = 0, max(1, int(SLICE_SECONDS / per_step))
            while taken < steps and not stop():
                t0, ask = time.thread_time(), min(size, steps - taken)
                done = t.run(ask)
                taken += done
                if done < ask:  # diverged
                    break
                # fit the slices to what they really cost; in CPU time, so that other programs on the core
                # (which lengthen the slice in wall time whatever its size) do not shrink them to nothing
                size = max(1, min(2 * size, int(size * SLICE_SECONDS / max(time.thread_time() - t0, 1e-6))))
                await asyncio.sleep(0)
            return taken

    async def lab(self, request, fn, *args):
        """A lab computation in a worker thread; :class:`OverBudget` if it ran out of time."""
        try:
            return await self.run(request, fn, *args, budget=self.lab_budget)
        except Stopped:
            raise OverBudget from None

    def close(self):
        self.executor.shutdown(wait=True, cancel_futures=True)


def _lower_priority():
    try:  # on Linux a thread's own id names just that thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):  # elsewhere, or not permitted: the pool still works, less politely
        pass


async def _watch_disconnect(request, stop):
    """Read the request's messages until the client disconnects (the body, if any, was read already)."""
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stop.disconnected = True
            return


async def busy(request, exc):
    return JSON({"detail": "The server is busy computing for others; retry shortly"}, status_code=503,
                headers={"Retry-After": "1"})


async def over_budget(request, exc):
    budget = request.app.state.compute.lab_budget
    return JSON({"detail": f"The computation took longer than this server's budget of {budget:g} s; "
                           "retry later or ask for less"}, status_code=503, headers={"Retry-After": "2"})


async def out_of_memory(request, exc):
    return JSON({"detail": "The server ran out of memory for this request; retry later"}, status_code=503,
                headers={"Retry-After": "5"})


def install(app, config):
    """The pool (``app.state.compute``) and the 503 answers for a full queue, a spent budget, no memory."""
    app.state.compute = ComputePool(config.compute_workers, config.compute_queue, config.compute_budget,
                                    config.lab_budget)
    app.add_exception_handler(Busy, busy)
    app.add_exception_handler(OverBudget, over_budget)
    app.add_exception_handler(MemoryError, out_of_memory)
