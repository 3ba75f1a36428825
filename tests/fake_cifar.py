"""A tiny CIFAR-10 folder in the format of ``cifar-10-batches-py`` (as CS231n's assignment 1 downloads it):
five ``data_batch_i`` and a ``test_batch`` pickle each holding a dict with ``batch_label``, ``labels`` (a list
of ints), ``data`` (uint8, one row of 3,072 bytes per image: the red 32×32 plane row by row, then green, then
blue) and ``filenames``; ``batches.meta`` with ``label_names``, ``num_cases_per_batch`` and ``num_vis``."""

import pickle

import numpy as np

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(path, label, images, labels):
    """``images``: uint8 (n, 32, 32, 3) as one looks at them; written channel-major as the real files are."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    d = {"batch_label": label, "labels": [int(v) for v in labels], "data": rows,
         "filenames": [f"img_{i}.png" for i in range(len(images))]}
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)


def write(folder, per_batch=20, n_test=30, seed=0):
    """Write the folder; returns ``(train images, train labels, test images, test labels)``, images uint8
    (n, 32, 32, 3) in file order."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    train_x, train_y = [], []
    for i in range(1, 6):
        x = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 10, per_batch)
        _batch(folder / f"data_batch_{i}", f"training batch {i} of 5", x, y)
        train_x.append(x)
        train_y.append(y)
    test_x, test_y = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n_test)
    _batch(folder / "test_batch", "testing batch 1 of 1", test_x, test_y)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": NAMES, "num_cases_per_batch": per_batch, "num_vis": 3072}, f, protocol=2)
    return np.concatenate(train_x), np.concatenate(train_y), test_x, test_y
