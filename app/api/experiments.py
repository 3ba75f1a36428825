"""``/api/datasets`` and ``/api/experiments``: the lecture's experiment on real images.

Experiments live in their own store (``app.state.experiments``: memory, or Redis under its own prefix) with
the sessions' limits and eviction; the images in :mod:`app.core.images`, loaded once per process. Every
computation on the images goes through the sessions' bounded compute pool (:mod:`app.api.experiment_compute`).
"""

import time
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response

from app.api import experiment_compute as compute
from app.api.deps import Owner
from app.api.responses import JSON
from app.api.sessions import STEP_BODY, parse_step
from app.core import images
from app.core.experiment import Experiment
from app.core.validation import InvalidInput
from app.experiment_schemas import (DatasetInfo, Evaluation, ExperimentCreate, ExperimentGradCheck,
                                    ExperimentPublic, ExperimentReset, ExperimentUpdate, Images, Split, Templates)
from app.sessions import SessionNotFound

router = APIRouter(tags=["image experiments"])
MAX_INDICES = 100
MAX_CHECKS = 50
DEFAULT_IMAGES = 16


async def dataset(request, name):
    """The dataset, loaded once per process (off the event loop the first time)."""
    folder = request.app.state.config.cifar10_dir
    data = images.loaded(name, folder)
    if data is not None:
        return data
    hint = images.available(name, folder)
    if hint:
        raise InvalidInput("dataset", f"{name} is not available here: {hint}")
    try:
        return await compute.load(request, name, folder)
    except images.DatasetUnavailable as e:
        raise HTTPException(503, f"Dataset {name} could not be loaded: {e}") from None


@asynccontextmanager
async def opened(request, eid, write=True):
    """The experiment under its store's lock (as a session); 404 if the id is unknown, expired or evicted."""
    try:
        async with request.app.state.experiments.open(eid, write, gone=request.is_disconnected) as e:
            yield e
    except SessionNotFound:
        raise HTTPException(404, "Experiment not found") from None


def state(eid, e, history_from=None):
    """The experiment's state (see :class:`ExperimentPublic`); ``history_from``: only what followed that step."""
    s, spec = e.settings, images.SPECS[e.dataset]
    start = e.history_start if history_from is None else history_from
    _, train, val = e.accuracy[-1]
    return {
        "id": eid, "dataset": e.dataset,
        "loss_type": s.loss_type, "step_size": s.step_size, "reg": s.reg, "reg_gradient": s.reg_gradient,
        "optimizer": s.optimizer, "batch_size": s.batch_size, "h": s.h, "search_scale": s.search_scale,
        "seed": e.seed, "classes": spec.classes, "shape": spec.shape, "parameters": e.W.size + e.b.size,
        "step": e.step, "loss": e.history[-1], "train_accuracy": train, "val_accuracy": val,
        "history": e.history[max(start - e.history_start, 0):], "history_start": max(start, e.history_start),
        "accuracy": [a for a in e.accuracy if a[0] >= start] if history_from is not None else e.accuracy,
        "segments": [{"start": a, "optimizer": o} for a, o in e.segments],
        "diverged": e.diverged, "loss_evals": e.loss_evals, "seconds": e.seconds, "taken": e.taken,
        "step_seconds": e.seconds / e.taken if e.taken else None,
        "search": {"tries": e.tries, "accepted": e.accepted, "best_loss": e.history[-1]},
    }


def templates(e):
    t = e.templates()
    return {"shape": t.shape, "images": t}


ExperimentId = Annotated[str, "the id returned on creation"]
ImageSplit = Literal["train", "val", "test"]


@router.get("/api/datasets", response_model=list[DatasetInfo])
async def list_datasets(request: Request):
    """The image datasets: digits always; CIFAR-10 when ``LINCLASS_CIFAR10_DIR`` names its folder."""
    folder, out = request.app.state.config.cifar10_dir, []
    for name, spec in images.SPECS.items():
        hint, data = images.available(name, folder), images.loaded(name, folder)
        sizes = [len(data.split(s).y) for s in ("train", "val", "test")] if data else images.SIZES.get(name)
        n_train, n_val, n_test = sizes or (None, None, None)
        out.append({"name": name, "available": hint is None, "shape": spec.shape, "classes": spec.classes,
                    "n_train": n_train, "n_val": n_val, "n_test": n_test, "hint": hint})
    return JSON(out)


# Registered before the other /{eid} routes: the one the page's Run hammers.
@router.post("/api/experiments/{eid}/step", response_model=ExperimentPublic, openapi_extra={"requestBody": STEP_BODY})
async def step_experiment(eid: ExperimentId, request: Request,
                          with_templates: Annotated[bool, Query(alias="templates")] = False):
    """Up to ``steps`` steps (default 1, at most 10,000) within the server's compute budget: ``steps_taken`` (and
    ``taken``) say how many were made. The history and accuracy hold only what this request added."""
    steps = parse_step(await request.body())
    async with opened(request, eid) as e:
        data = await dataset(request, e.dataset)
        first = e.step + 1
        taken = await compute.run_steps(request, e, data, steps)
        out = {**state(eid, e, history_from=first), "steps_taken": taken}
        if with_templates:
            out["templates"] = templates(e)
        return JSON(out)


@router.post("/api/experiments", status_code=201, response_model=ExperimentPublic)
async def create_experiment(body: ExperimentCreate, request: Request, owner: Owner):
    data = await dataset(request, body.dataset)
    e = await compute.create(request, data, body.seed, body.changes())
    eid = await request.app.state.experiments.create(e, owner)
    return JSON(state(eid, e), status_code=201)


@router.get("/api/experiments/{eid}", response_model=ExperimentPublic)
async def read_experiment(eid: ExperimentId, request: Request):
    async with opened(request, eid, write=False) as e:
        return JSON(state(eid, e))


@router.patch("/api/experiments/{eid}", response_model=ExperimentPublic)
async def update_experiment(eid: ExperimentId, body: ExperimentUpdate, request: Request):
    """Change settings; the parameters and the history stay."""
    async with opened(request, eid) as e:
        e.update(await dataset(request, e.dataset), **body.changes())
        return JSON(state(eid, e, history_from=e.step + 1))


@router.post("/api/experiments/{eid}/reset", response_model=ExperimentPublic)
async def reset_experiment(eid: ExperimentId, request: Request,
                           body: Annotated[ExperimentReset | None, Body()] = None):
    """New initial parameters (from ``seed``), history cleared; the settings stay."""
    async with opened(request, eid) as e:
        data = await dataset(request, e.dataset)
        await compute.reset(request, e, data, (body or ExperimentReset()).seed)
        return JSON(state(eid, e))


@router.delete("/api/experiments/{eid}", status_code=204)
async def delete_experiment(eid: ExperimentId, request: Request):
    try:
        await request.app.state.experiments.delete(eid)
    except SessionNotFound:
        raise HTTPException(404, "Experiment not found") from None
    return Response(status_code=204)


@router.get("/api/experiments/{eid}/evaluate", response_model=Evaluation)
async def evaluate_experiment(eid: ExperimentId, request: Request, split: Split = "val"):
    """Accuracy and confusion matrix on the validation or test split, and the first mistakes."""
    async with opened(request, eid, write=False) as e:
        data = await dataset(request, e.dataset)
        return JSON(await compute.evaluate(request, e, data, split))


@router.get("/api/experiments/{eid}/templates", response_model=Templates)
async def experiment_templates(eid: ExperimentId, request: Request):
    """Each class's weight row as an image (the CS231n notes' "templates")."""
    async with opened(request, eid, write=False) as e:
        return JSON(templates(e))


def _indices(text, n):
    parts = text.split(",") if text else []
    # ASCII digits only: int() also takes "１", "1_0", "+3" and " 1", none of them what a client means
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise InvalidInput("indices", "must be integers separated by commas", "query")
    indices = [int(p) for p in parts] if parts else list(range(min(DEFAULT_IMAGES, n)))
    if not 1 <= len(indices) <= MAX_INDICES or not all(0 <= i < n for i in indices):
        raise InvalidInput("indices", f"must be 1 to {MAX_INDICES} integers in [0, {n})", "query")
    return indices


@router.get("/api/experiments/{eid}/images", response_model=Images)
async def experiment_images(eid: ExperimentId, request: Request, split: ImageSplit = "test",
                            indices: Annotated[str, Query(max_length=1000, description="e.g. 0,5,17")] = ""):
    """The images themselves (0–255) with their labels and the current prediction."""
    async with opened(request, eid, write=False) as e:
        data = await dataset(request, e.dataset)
        part = data.split(split)
        idx = _indices(indices, len(part.y))
        predicted = e.predict(part.X[idx])
    return JSON({"split": split, "indices": idx, "shape": (len(idx), *data.spec.shape),
                 "images": data.pixels(split, idx), "labels": part.y[idx], "predicted": predicted})


@router.get("/api/experiments/{eid}/gradcheck", response_model=ExperimentGradCheck)
async def experiment_gradient_check(eid: ExperimentId, request: Request,
                                    count: Annotated[int, Query(ge=1, le=MAX_CHECKS)] = 20,
                                    seed: Annotated[int | None, Query(ge=0, lt=2**63)] = None):
    """Analytic gradient against centered differences at ``count`` random parameters (``seed`` picks them), on
    500 training images, as the assignment's ``grad_check_sparse``."""
    async with opened(request, eid, write=False) as e:
        data = await dataset(request, e.dataset)
        snapshot = Experiment(e.dataset, e.W.copy(), e.b.copy(), e.settings, e.seed)
    seed = time.time_ns() if seed is None else seed
    return JSON(await compute.gradient_check(request, snapshot, data, count, seed))
