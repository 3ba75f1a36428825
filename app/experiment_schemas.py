"""Request and response models of the image experiments (``/api/datasets``, ``/api/experiments``).

The settings and their limits are the sessions' (:class:`app.schemas.SettingsChanges`, from
:mod:`app.core.settings`); requests are as strict as the sessions' (no strings for numbers, no unknown fields).
"""

from typing import Literal

from pydantic import BaseModel, Field

from app.core.images import SPECS
from app.schemas import ParamCheck, Request, Search, Seed, Segment, SettingsChanges, SettingsPublic

DatasetName = Literal[tuple(SPECS)]
Split = Literal["val", "test"]


class ExperimentUpdate(SettingsChanges):
    """Any subset of the settings. Never resets the parameters or the history."""

    def changes(self):
        return self.model_dump(exclude_none=True)


class ExperimentCreate(ExperimentUpdate):
    """A dataset, and any settings to change from that dataset's defaults; ``seed`` fixes the initial
    parameters and every random draw after (minibatches, random search)."""

    dataset: DatasetName
    seed: Seed | None = None

    def changes(self):
        return self.model_dump(exclude_none=True, exclude={"dataset", "seed"})


class ExperimentReset(Request):
    seed: Seed | None = Field(None, description="for the new parameters; omitted: a random one")


class DatasetInfo(BaseModel):
    name: str
    available: bool
    shape: list[int] = Field(description="one image: [H, W] or [H, W, C]")
    classes: list[str]
    n_train: int | None = Field(description="null until the dataset is first loaded (CIFAR-10)")
    n_val: int | None
    n_test: int | None
    hint: str | None = Field(description="why it is unavailable and what to do")


class Templates(BaseModel):
    shape: list[int] = Field(description="[K, H, W] or [K, H, W, C]")
    images: list = Field(description="each class's weights as an image, all scaled together to 0–255")


class ExperimentPublic(SettingsPublic):
    """An experiment's state. ``loss`` is the last loss in the history: the full training loss after the step
    for gd, numerical and random search, the minibatch's loss for sgd. ``history[i]`` is the loss of step
    ``history_start + i``; ``accuracy`` holds ``[step, train, val]`` (train: a fixed sample of 1,000 training
    images). A step request returns only what it added to both."""

    id: str
    dataset: DatasetName
    seed: int
    classes: list[str]
    shape: list[int]
    parameters: int = Field(description="P = K·(D + 1)")
    step: int
    loss: float
    train_accuracy: float
    val_accuracy: float
    history: list[float]
    history_start: int
    accuracy: list[tuple[int, float, float]]
    segments: list[Segment]
    diverged: bool
    loss_evals: int = Field(description="loss evaluations of the last step (numerical: 2·P + 1)")
    seconds: float = Field(description="compute time of the last request that trained or reset")
    taken: int = Field(description="steps the last step request took (fewer than asked when time ran out)")
    steps_taken: int | None = Field(None, description="on a step response: the steps this request took, fewer "
                                    "than asked when the server's compute budget ran out or it diverged (as "
                                    "the sessions' step)")
    step_seconds: float | None = Field(description="seconds per step of the last step request")
    search: Search
    templates: Templates | None = Field(None, description="with ?templates=true on a step request")


class Mistake(BaseModel):
    index: int
    label: int
    predicted: int


class Evaluation(BaseModel):
    split: Split
    accuracy: float
    confusion: list[list[int]] = Field(description="K×K counts, rows the true class, columns the predicted")
    mistakes: list[Mistake] = Field(description="the first few misclassified images")
    mistake_count: int
    n: int


class Images(BaseModel):
    split: Literal["train", "val", "test"]
    indices: list[int]
    shape: list[int] = Field(description="[n, H, W] or [n, H, W, C]")
    images: list = Field(description="0–255")
    labels: list[int]
    predicted: list[int]


class ExperimentGradCheck(BaseModel):
    params: list[ParamCheck]
    max_rel_error: float
    h: float
    precision: str
