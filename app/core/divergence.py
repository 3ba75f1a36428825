"""Seeing a run blow up long before float64 overflows, and saying why.

A gradient step on ``L = data loss + λ Σ W²`` is ``W ← (1 − c·λ·η) W − η ∂(data loss)/∂W``, with ``c = 2``
for the exact gradient (0.5 for the original demo's; the numerical gradient is always exact). The first
factor alone shrinks ``W`` only while ``c·λ·η < 2``. From ``c·λ·η ≥ 2`` on (``2·λ·step_size ≥ 2``) it flips
the sign of ``W`` every step without shrinking it, and the data term's push builds up: the loss grows (about
quadratically in the steps at exactly 2, geometrically beyond), or at best the weights swing between two
mirror images for ever (seen with the one-vs-all loss on two classes). Below the rule the weights stay
bounded, since every data loss here has a gradient bounded by the data, and the loss cannot run away.

:class:`Watch` follows the losses since the last change of parameters, settings or data and latches
``diverging`` on the first of two signs:

* growth: the loss at least ``GROWTH_RATIO`` times the lowest loss since the change (floored at
  ``LOSS_FLOOR``, so that noise around a loss near zero makes no huge ratio) and rising on each of the last
  ``RISES`` steps;
* reversals: the rule holds and ``W`` pointed against its previous direction (``⟨W_t, W_t−1⟩ < 0``) on each of
  the last ``FLIPS`` steps: the rule at work, seen in the run (the regions swap every step). Healthy runs
  reverse too, for hundreds of steps (a step size of 3 on two points), so reversals count only under the rule.

``bench/divergence.py`` measures how far these thresholds are from the healthy and the diverging runs.
"""

from dataclasses import asdict, dataclass

GROWTH_RATIO = 10.0
LOSS_FLOOR = 1.0  # about one point's margin: the loss scale below which ratios say nothing
RISES = 3
FLIPS = 10
GRADIENT_OPTIMIZERS = ("gd", "sgd", "numerical")
EXACT_REG_GRADIENT = 2.0


def reg_factor(settings, reg_gradients):
    """``1 − c·λ·η``: what the regularization gradient alone multiplies ``W`` by each step (None for random
    search, which takes no gradient steps)."""
    if settings.optimizer not in GRADIENT_OPTIMIZERS:
        return None
    c = EXACT_REG_GRADIENT if settings.optimizer == "numerical" else reg_gradients[settings.reg_gradient]
    return 1.0 - c * settings.reg * settings.step_size


def rule_holds(factor):
    """``c·λ·η ≥ 2``, i.e. ``1 − c·λ·η ≤ −1``, with a tolerance of 1e-9 so that values meant to be on the
    boundary (λ = 0.3, η = 1/0.3) count as on it."""
    return factor is not None and factor <= -1.0 + 1e-9


def cause(diverging, factor):
    """Why the run diverges: ``"regularization"`` when the rule ``c·λ·η ≥ 2`` holds, else ``"step_size"``."""
    if not diverging:
        return None
    return "regularization" if rule_holds(factor) else "step_size"


@dataclass
class Watch:
    lowest: float | None = None  # the lowest loss since the last change; None: not seen yet
    rises: int = 0  # consecutive steps on which the loss went up
    flips: int = 0  # consecutive steps on which W reversed its direction
    diverging: bool = False

    def restart(self):
        self.lowest, self.rises, self.flips, self.diverging = None, 0, 0, False

    def begin(self, loss):
        """The loss the run starts from, at the first step after a change."""
        if self.lowest is None:
            self.lowest = loss

    def observe(self, previous, loss, flipped):
        """One step from loss ``previous`` to ``loss``; ``flipped``: W reversed while the rule holds."""
        if self.diverging:
            return
        self.rises = self.rises + 1 if loss > previous else 0
        self.flips = self.flips + 1 if flipped else 0
        self.lowest = min(self.lowest, loss)
        far = loss >= GROWTH_RATIO * max(self.lowest, LOSS_FLOOR)
        self.diverging = (far and self.rises >= RISES) or self.flips >= FLIPS

    def to_record(self):
        return asdict(self)

    @classmethod
    def from_record(cls, record):
        """From ``to_record`` output (or None, for records written before the watch existed)."""
        if record is None:
            return cls()
        lowest = record["lowest"]
        return cls(None if lowest is None else float(lowest), int(record["rises"]), int(record["flips"]),
                   bool(record["diverging"]))
