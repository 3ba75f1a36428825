"""The image datasets: digits from scikit-learn and CIFAR-10 from a generated folder in the pickle format,
split by a fixed seed, scaled, mean-subtracted, read-only, loaded once."""

import pickle
import threading

import numpy as np
import pytest
from sklearn.datasets import load_digits

from app.core import images
from tests import fake_cifar


@pytest.fixture
def fresh(monkeypatch):
    """An empty process-wide cache, and a count of the loads made."""
    monkeypatch.setattr(images, "_loaded", {})
    monkeypatch.setattr(images, "_failed", {})
    monkeypatch.setattr(images, "_locks", {})
    calls = []
    for name in ("load_digits", "load_cifar10"):
        real = getattr(images, name)
        monkeypatch.setattr(images, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    return calls


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    return folder, fake_cifar.write(folder)


def test_digits_split_sizes_types_and_mean():
    d = images.get("digits")
    assert (len(d.train.y), len(d.val.y), len(d.test.y)) == images.SIZES["digits"] == (1197, 300, 300)
    assert d.train.X.shape == (1197, 64) and d.train.X.dtype == np.float32 and d.train.y.dtype == np.int64
    np.testing.assert_allclose(d.train.X.mean(axis=0), 0, atol=1e-6)  # the training mean image is subtracted
    assert not d.train.X.flags.writeable and not d.test.X.flags.writeable  # shared: nobody may change them
    assert d.dev.X.dtype == np.float64 and len(d.dev.y) == images.DEV_SIZE and len(d.sample) == images.SAMPLE_SIZE


def test_digits_are_scikit_learns_images_each_once():
    d, raw = images.get("digits"), load_digits()
    # pixels back in 0–16 units: every image of the three splits is one of scikit-learn's, none twice
    rows = np.concatenate([(s.X + d.mean) * 16 for s in (d.train, d.val, d.test)])
    labels = np.concatenate([d.train.y, d.val.y, d.test.y])
    key = {tuple(r): i for i, r in enumerate(raw.data)}
    found = [key[tuple(np.rint(r))] for r in rows]
    assert sorted(found) == list(range(1797))
    assert np.array_equal(raw.target[found], labels)
    np.testing.assert_allclose(np.rint(rows), rows, atol=1e-4)
    assert d.pixels("test", [0, 1]).tolist() == np.rint(raw.data[found[1497:1499]] / 16 * 255).reshape(2, 8, 8).tolist()


def test_the_split_is_fixed(fresh):
    a = images.load_digits()
    b = images.load_digits()
    assert np.array_equal(a.test.X, b.test.X) and np.array_equal(a.val.y, b.val.y)
    assert np.array_equal(a.sample, b.sample)


def test_cifar10_from_a_folder_in_the_assignments_format(cifar_dir):
    folder, (train_x, train_y, test_x, test_y) = cifar_dir
    d = images.load_cifar10(str(folder))
    assert (len(d.train.y), len(d.val.y), len(d.test.y)) == (90, 10, 30)  # a tenth of 100 for validation
    assert d.train.X.shape == (90, 3072) and d.train.X.dtype == np.float32 and d.spec.shape == (32, 32, 3)
    np.testing.assert_allclose(d.train.X.mean(axis=0), 0, atol=1e-6)
    # each image comes back as it was written (height × width × channel), its label with it
    val_and_train = {tuple(x.ravel()): y for x, y in zip(train_x, train_y)}
    for split in ("train", "val"):
        part = d.split(split)
        shown = d.pixels(split, list(range(len(part.y))))
        assert [val_and_train[tuple(x.ravel())] for x in shown] == part.y.tolist()
    test_seen = {tuple(x.ravel()): y for x, y in zip(test_x, test_y)}
    assert sorted(test_seen[tuple(x.ravel())] for x in d.pixels("test", list(range(30)))) == sorted(test_y.tolist())
    mean = np.concatenate(train_x).reshape(100, 3072)  # the mean of the 90 training images, in [0, 1]
    train_rows = {tuple(x.ravel()) for x in d.pixels("train", list(range(90)))}
    picked = np.array([r for r in mean if tuple(r) in train_rows], dtype=np.float64) / 255
    np.testing.assert_allclose(d.mean, picked.mean(axis=0), atol=1e-6)


def test_cifar10_is_unavailable_with_a_hint_without_its_folder(tmp_path):
    assert "LINCLASS_CIFAR10_DIR" in images.available("cifar10", None)
    assert "data_batch_1" in images.available("cifar10", str(tmp_path))
    assert str(tmp_path) not in images.available("cifar10", str(tmp_path))  # the server's paths stay private
    assert images.available("digits", None) is None
    with pytest.raises(images.DatasetUnavailable, match="lacks"):
        images.load_cifar10(str(tmp_path))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, cifar_dir):
    folder = tmp_path / "evil"
    fake_cifar.write(folder, per_batch=2, n_test=2)

    class Boom:
        def __reduce__(self):
            return (print, ("this must never run",))

    with open(folder / "data_batch_3", "wb") as f:
        pickle.dump({"data": Boom(), "labels": [0]}, f, protocol=2)
    with pytest.raises(images.DatasetUnavailable, match=r"(__builtin__|builtins)\.print is not allowed"):
        images.load_cifar10(str(folder))


def test_a_malformed_batch_names_the_problem(tmp_path):
    folder = tmp_path / "bad"
    fake_cifar.write(folder, per_batch=2, n_test=2)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, f, protocol=2)
    with pytest.raises(images.DatasetUnavailable, match=r"test_batch: expected uint8 data of shape \(n, 3072\)"):
        images.load_cifar10(str(folder))


def test_a_dataset_is_loaded_once_and_shared(fresh, cifar_dir):
    folder = str(cifar_dir[0])
    results = []
    threads = [threading.Thread(target=lambda: results.append(images.get("cifar10", folder))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fresh == ["load_cifar10"] and all(r is results[0] for r in results)
    assert images.get("digits") is images.get("digits") and fresh == ["load_cifar10", "load_digits"]
    assert images.loaded("cifar10", folder) is results[0] and images.loaded("cifar10", "/elsewhere") is None


def test_a_folder_that_fails_to_load_is_not_read_again_and_is_listed_unavailable(fresh, tmp_path):
    folder = tmp_path / "broken"
    fake_cifar.write(folder, per_batch=2, n_test=2)
    (folder / "data_batch_2").write_bytes(b"not a pickle")
    assert images.available("cifar10", str(folder)) is None  # every file is there
    for _ in range(3):
        with pytest.raises(images.DatasetUnavailable, match="could not be read as CIFAR-10") as e:
            images.get("cifar10", str(folder))
        assert str(tmp_path) not in str(e.value)
    assert fresh == ["load_cifar10"]  # one attempt
    assert "could not be read" in images.available("cifar10", str(folder))
