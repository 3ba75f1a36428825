"""Toy 2-D datasets: the original demo's nine points and generated presets.

Every generator has the signature ``(rng, n, classes, noise) -> (X, y)``: ``n`` points per class, labels
``0 … classes−1``, and coordinates inside the plotted square [−1, 1]². ``noise`` is the preset's spread
(:data:`NOISE` gives its default and its largest value; ``None`` means the default); the original points and
the uniform ``random`` preset have none.
"""

import numpy as np

ORIGINAL_X = (
    (0.5, 0.4), (0.8, 0.3), (0.3, 0.8),  # class 0
    (-0.4, 0.3), (-0.3, 0.7), (-0.7, 0.2),  # class 1
    (0.7, -0.4), (0.5, -0.6), (-0.4, -0.5),  # class 2
)
ORIGINAL_Y = (0, 0, 0, 1, 1, 1, 2, 2, 2)


def original(rng=None, n=3, classes=3, noise=None):
    """The fixed nine points of the CS231n demo (``n`` and ``classes`` do not apply)."""
    return np.array(ORIGINAL_X), np.array(ORIGINAL_Y)


def _labels(n, classes):
    return np.repeat(np.arange(classes), n)


def _angles(classes):
    return 2 * np.pi * np.arange(classes) / classes + np.pi / 6


def blobs(rng, n, classes, noise=0.15):
    """Gaussian clusters (standard deviation ``noise``) centred on a circle of radius 0.55: linearly
    separable, or nearly so, at the default spread."""
    a = np.repeat(_angles(classes), n)
    centres = 0.55 * np.column_stack([np.cos(a), np.sin(a)])
    return centres + rng.normal(0, noise, (n * classes, 2)), _labels(n, classes)


def moons(rng, n, classes, noise=0.05):
    """Interleaved half-circle arcs, one per class, alternately facing up and down, blurred by Gaussian
    noise of standard deviation ``noise``: not linearly separable."""
    k = np.repeat(np.arange(classes), n)
    t = rng.uniform(0, np.pi, n * classes)
    flip = np.where(k % 2 == 0, 1.0, -1.0)
    shift = (k - (classes - 1) / 2) * (1.0 / classes)
    x0 = 0.5 * np.cos(t) * flip + shift + np.where(k % 2 == 0, -0.15, 0.15)
    x1 = 0.45 * np.sin(t) * flip + np.where(k % 2 == 0, -0.15, 0.15)
    return np.column_stack([x0, x1]) + rng.normal(0, noise, (n * classes, 2)), k


def circles(rng, n, classes, noise=0.03):
    """Concentric rings, one per class, their radii blurred by Gaussian noise of standard deviation
    ``noise``: no linear classifier separates them."""
    k = np.repeat(np.arange(classes), n)
    r = 0.9 * (k + 1) / classes + rng.normal(0, noise, n * classes)
    t = rng.uniform(0, 2 * np.pi, n * classes)
    return np.column_stack([r * np.cos(t), r * np.sin(t)]), k


def random(rng, n, classes, noise=None):
    """Uniform points with uniform labels: pure noise."""
    return rng.uniform(-1, 1, (n * classes, 2)), rng.integers(0, classes, n * classes)


DATASETS = {"original": original, "blobs": blobs, "moons": moons, "circles": circles, "random": random}
# (default, largest) spread of the presets that have one: at the largest the classes overlap heavily,
# beyond it the points mostly pile up on the clipped border of the square
NOISE = {"blobs": (0.15, 0.5), "moons": (0.05, 0.3), "circles": (0.03, 0.2)}


def make(name, rng, n, classes, noise=None):
    """``n`` points per class of the preset ``name``, clipped to [−1, 1]²; ``noise=None``: its default spread."""
    spread = {} if noise is None else {"noise": noise}
    X, y = DATASETS[name](rng, n, classes, **spread)
    return np.clip(X, -1.0, 1.0), y.astype(np.int64)
