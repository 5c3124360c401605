"""MNIST IDX reader on small files written here (no downloads) and the shipped digits (gan.md §3)."""

import gzip

import numpy as np
import pytest

from wavejax.gan import load_digits, load_mnist, read_idx, split_train_test, write_idx


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
