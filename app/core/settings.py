"""The settings of a training session, with their defaults and limits, declared once.

The core validates edits with :meth:`Settings.check`; the API builds its pydantic request and response models
from the same fields (:mod:`app.schemas`), so a limit changed here changes both. Each field's metadata holds
either ``choices`` (the allowed strings) or a numeric range: ``low``/``high`` (inclusive unless ``low_open``)
and ``integer``.
"""

from dataclasses import dataclass, field, fields

from app.core.losses import LOSS_TYPES
from app.core.model import REG_GRADIENTS
from app.core.optimizers import OPTIMIZERS
from app.core.validation import InvalidInput, choice, number


def setting(default, doc, *, choices=None, low=None, high=None, low_open=False, integer=False):
    meta = {"doc": doc, "choices": choices, "low": low, "high": high, "low_open": low_open, "integer": integer}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    loss_type: str = setting("svm_ww", "the loss function", choices=LOSS_TYPES)
    step_size: float = setting(0.1, "the step size η of an update", low=0, high=1000, low_open=True)
    reg: float = setting(0.1, "the L2 regularization strength λ", low=0, high=1000)
    reg_gradient: str = setting("exact", "'exact' (2λW) or 'original' (0.5λW, as the original demo)",
                                choices=tuple(REG_GRADIENTS))
    optimizer: str = setting("gd", "the optimization strategy", choices=tuple(OPTIMIZERS))
    batch_size: int = setting(4, "minibatch size for sgd", low=1, high=100_000, integer=True)
    h: float = setting(1e-4, "finite-difference step of the numerical gradient", low=0, high=1, low_open=True)
    search_scale: float = setting(1.0, "standard deviation of random search's draws", low=0, high=1000,
                                  low_open=True)

    def check(self):
        """Raise :class:`InvalidInput` naming the first setting outside its limits."""
        for f in fields(self):
            check_setting(f.name, getattr(self, f.name), f.metadata)


def check_setting(name, value, meta):
    if meta["choices"] is not None:
        choice(name, value, meta["choices"])
    elif meta["integer"]:
        if isinstance(value, bool) or not isinstance(value, int) or not meta["low"] <= value <= meta["high"]:
            raise InvalidInput(name, f"must be an integer from {meta['low']} to {meta['high']}")
    else:
        number(name, value, meta["low"], meta["high"], low_open=meta["low_open"])


SETTING_FIELDS = {f.name: f for f in fields(Settings)}
SETTING_NAMES = tuple(SETTING_FIELDS)
