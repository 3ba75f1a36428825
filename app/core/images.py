"""Real images for the lecture's experiment: scikit-learn's 8×8 digits, and CIFAR-10 from a local folder.

Each dataset is split once, by a fixed seed, into train / validation / test; pixel values are scaled to [0, 1],
the training set's mean image is subtracted from every split, and the images are stored flattened, float32,
read-only. (Scaling keeps one set of step sizes and λ limits for both datasets: the assignment's learning rate
1e-7 and λ = 2.5e4 on 0–255 pixels are 6.5e-3 and 0.38 here, with the same scores.)

* ``digits``: the 1,797 images of ``sklearn.datasets.load_digits`` (pixels 0–16), split 1,197 / 300 / 300.
* ``cifar10``: the python-pickle folder CS231n's assignment 1 downloads (``cifar-10-batches-py``:
  ``data_batch_1`` … ``data_batch_5``, ``test_batch``, ``batches.meta``). Each batch is a dict with ``data``,
  uint8 rows of 3,072 bytes (the red plane, then green, then blue, each 32×32 row by row) and ``labels``. The
  50,000 training images give 49,000 for training and 1,000 for validation, the first 1,000 of a fixed
  permutation of the test batch the test split, as the assignment (smaller folders: a tenth for validation).
  Rows are stored height × width × channel, the assignment's order.

A dataset is loaded at most once per process, on first use, and then shared by every experiment (:func:`get`).
No web imports here.
"""

import math
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # NumPy 2 moved its pickling helpers; the CIFAR-10 files name the old place
    from numpy._core import multiarray, numeric
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray, numeric

SPLIT_SEED = 0
DEV_SIZE = 500  # training examples for the gradient check, as the assignment's X_dev
SAMPLE_SIZE = 1000  # training examples whose accuracy is reported, as the assignment's check_accuracy
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class Spec:
    """What is known of a dataset without loading it."""

    shape: tuple  # one image: (H, W) or (H, W, C)
    classes: tuple  # class names

    @property
    def dims(self):
        return math.prod(self.shape)


SIZES = {"digits": (1197, 300, 300)}  # train, val, test: known before loading (CIFAR-10's depend on the folder)
SPECS = {"digits": Spec((8, 8), tuple("0123456789")), "cifar10": Spec((32, 32, 3), CIFAR10_NAMES)}


class DatasetUnavailable(RuntimeError):
    """The dataset cannot be loaded here; the message says why and what to do."""


@dataclass(frozen=True)
class Split:
    X: np.ndarray  # (N, D) float32, mean-subtracted
    y: np.ndarray  # (N,) int64


@dataclass(frozen=True)
class ImageData:
    name: str
    spec: Spec
    train: Split
    val: Split
    test: Split
    mean: np.ndarray  # (D,) the training mean image, in [0, 1] units
    dev: Split  # DEV_SIZE training examples in float64, for the gradient check
    sample: np.ndarray  # indices of the SAMPLE_SIZE training examples whose accuracy is reported

    def split(self, name):
        return {"train": self.train, "val": self.val, "test": self.test}[name]

    def pixels(self, split, indices):
        """The images at ``indices`` as uint8 0–255, shaped (n, H, W[, C]) for display."""
        raw = self.split(split).X[indices] + self.mean
        return np.rint(np.clip(raw, 0, 1) * 255).astype(np.uint8).reshape(len(indices), *self.spec.shape)


def _read_only(*arrays):
    for a in arrays:
        a.flags.writeable = False


def _unit(pixels, top):
    """Pixels (0 … ``top``) as float32 in [0, 1], without a float64 copy: CIFAR-10's training set is 600 MB so."""
    out = pixels.astype(np.float32)
    out /= top
    return out


def _build(name, X, y, n_val, X_test, y_test, n_test, top):
    """Split (seeded), scale to [0, 1], subtract the training mean image, freeze. Pixels run from 0 to ``top``."""
    rng = np.random.default_rng(SPLIT_SEED)
    order, test_order = rng.permutation(len(y)), rng.permutation(len(y_test))[:n_test]
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    X_train = _unit(X[train_idx], top)
    mean = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    X_train -= mean
    X_val, X_te = _unit(X[val_idx], top) - mean, _unit(X_test[test_order], top) - mean
    dev_idx = np.sort(rng.choice(len(train_idx), min(DEV_SIZE, len(train_idx)), replace=False))
    sample = np.sort(rng.choice(len(train_idx), min(SAMPLE_SIZE, len(train_idx)), replace=False))
    train, val = Split(X_train, y[train_idx]), Split(X_val, y[val_idx])
    test, dev = Split(X_te, y_test[test_order]), Split(X_train[dev_idx].astype(np.float64), y[train_idx][dev_idx])
    for s in (train, val, test, dev):
        _read_only(s.X, s.y)
    _read_only(mean, sample)
    return ImageData(name, SPECS[name], train, val, test, mean, dev, sample)


def load_digits():
    """scikit-learn's bundled 8×8 digits: 300 test images (the first of a fixed permutation), and of the other
    1,497, 300 for validation and 1,197 for training."""
    from sklearn.datasets import load_digits as sklearn_digits  # imported here: a second to import

    digits = sklearn_digits()
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    test, rest = order[:300], np.sort(order[300:])
    return _build("digits", digits.data[rest], y[rest], 300, digits.data[test], y[test], 300, 16.0)


# --- CIFAR-10 ----------------------------------------------------------------------------------------------
class _ArraysOnly(pickle.Unpickler):
    """The batches hold dicts, lists, strings and NumPy arrays; nothing else is let in (a pickle can run code)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy.core.numeric", "_frombuffer"): numeric._frombuffer,
        ("numpy._core.numeric", "_frombuffer"): numeric._frombuffer,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): lambda text, encoding="utf-8": _latin1(text, encoding),  # bytes, as Python 3 writes
    }

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch") from None


def _latin1(text, encoding):
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError("only latin1 text may be encoded in a CIFAR-10 batch")
    return text.encode("latin1")


def _unpickle(path):
    with open(path, "rb") as f:
        d = _ArraysOnly(f, encoding="latin1").load()  # the files were written by Python 2
    if not isinstance(d, dict):
        raise DatasetUnavailable(f"{path.name} does not hold a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}


def _batch(path):
    """``(X, y)`` of one batch: X uint8 (n, 3,072) in height × width × channel order."""
    d = _unpickle(path)
    try:
        data, labels = np.asarray(d["data"]), np.asarray(d["labels"])
    except KeyError as e:
        raise DatasetUnavailable(f"{path.name} has no {e.args[0]!r} entry") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (len(data),):
        raise DatasetUnavailable(f"{path.name}: expected uint8 data of shape (n, 3072) and n labels")
    if labels.dtype.kind not in "iu" or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise DatasetUnavailable(f"{path.name}: labels must be integers 0–9")
    X = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(data), 3072)
    return X, labels.astype(np.int64)


def cifar10_problem(folder):
    """Why ``folder`` cannot be read as CIFAR-10, or None if it looks right (every file present)."""
    if not folder:
        return ("set LINCLASS_CIFAR10_DIR to a cifar-10-batches-py folder (the python version of CIFAR-10, "
                "as CS231n's assignment 1 downloads it) and restart the server")
    path = Path(folder)
    missing = [name for name in CIFAR10_FILES if not (path / name).is_file()]
    if missing:
        return f"the folder LINCLASS_CIFAR10_DIR names lacks {', '.join(missing)}"  # its path stays private
    return None


def load_cifar10(folder):
    problem = cifar10_problem(folder)
    if problem:
        raise DatasetUnavailable(problem)
    path = Path(folder)
    try:
        names = _unpickle(path / "batches.meta").get("label_names")
        if names is None or len(names) != 10:
            raise DatasetUnavailable("batches.meta must list 10 label_names")
        parts = [_batch(path / f"data_batch_{i}") for i in range(1, 6)]
        X_test, y_test = _batch(path / "test_batch")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise DatasetUnavailable(f"the folder LINCLASS_CIFAR10_DIR names could not be read as CIFAR-10 "
                                 f"({type(e).__name__}: {e})") from None
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    n_val = min(1000, math.ceil(len(y) / 10))
    return _build("cifar10", X, y, n_val, X_test, y_test, min(1000, len(y_test)), 255.0)


# --- loaded once per process -------------------------------------------------------------------------------
_loaded = {}  # (name, folder) -> ImageData
_failed = {}  # (name, folder) -> why it could not be loaded: not tried again (600 MB) until a restart
_locks = {}
_guard = threading.Lock()


def available(name, cifar10_dir=None):
    """None if ``name`` can be loaded here, else a hint saying what is missing."""
    failed = _failed.get((name, cifar10_dir if name == "cifar10" else None))
    return failed or (cifar10_problem(cifar10_dir) if name == "cifar10" else None)


def get(name, cifar10_dir=None):
    """The dataset, loaded on first use (blocking: call it off the event loop) and shared afterwards."""
    key = (name, cifar10_dir if name == "cifar10" else None)
    if key in _loaded:
        return _loaded[key]
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:  # one thread loads; others asking meanwhile wait for it
        if key in _failed:
            raise DatasetUnavailable(_failed[key])
        if key not in _loaded:
            try:
                _loaded[key] = load_cifar10(cifar10_dir) if name == "cifar10" else load_digits()
            except DatasetUnavailable as e:
                _failed[key] = str(e)
                raise
    return _loaded[key]


def loaded(name, cifar10_dir=None):
    """The dataset if it is loaded already, else None (no waiting)."""
    return _loaded.get((name, cifar10_dir if name == "cifar10" else None))
