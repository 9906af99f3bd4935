"""The MNIST test images as graphs: ``mnist-knn`` (pixels) and ``mnist-siamese`` (the BASiS
paper's Siamese codes), both Gaussian kNN affinity graphs (``graph_eigen.graph.knn.knn_graph``)."""
from __future__ import annotations

import gzip
import logging
import os
import zlib
from pathlib import Path
from typing import Optional, Union

import numpy as np

from graph_eigen.errors import ConfigError, DatasetNotFoundError, InvalidGraphError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.knn import BASIS_KNN, KNN_KERNELS, knn_graph

log = logging.getLogger(__name__)

MNIST_SIAMESE_FILE = os.path.join("MNIST-siamese", "mnist_test_siamese.npz")
MNIST_DIR = os.path.join("MNIST-test", "raw")
MNIST_IMAGES = "t10k-images-idx3-ubyte"
MNIST_LABELS = "t10k-labels-idx1-ubyte"
_IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


def read_mnist_test(root: Union[str, os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST test set from ``<root>/MNIST-test/raw``: images float32 (10000, 784) in [0, 1]
    and labels int64 (10000,). Reads the IDX files (gzipped or not) directly."""
    folder = Path(root) / MNIST_DIR
    images = _read_idx(_find_idx(folder, MNIST_IMAGES), _IDX_IMAGES_MAGIC, ndim=3)
    labels = _read_idx(_find_idx(folder, MNIST_LABELS), _IDX_LABELS_MAGIC, ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise InvalidGraphError(
            f"MNIST files in {folder} disagree: {images.shape[0]} images but "
            f"{labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise InvalidGraphError(f"MNIST labels in {folder} hold values above 9")
    x = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
    return x, labels.astype(np.int64)


def load_mnist_knn(root: Optional[Union[str, os.PathLike]], spec: str = "") -> Graph:
    """The ``mnist-knn`` dataset: kNN affinity graph of the 10,000 MNIST test images.

    ``spec`` may set ``k`` and ``local_scale_neighbor`` (alias ``scale``), e.g. ``"k=15"``;
    with only ``k`` given, the scale neighbor is ``min(7, k)``. Defaults (k=10, scale 7) give
    a connected graph (65,733 undirected edges, 89% of them within a digit class).
    """
    if root is None:
        raise DatasetNotFoundError(
            "mnist-knn needs a data root: pass `root` pointing at a folder that holds "
            f"{MNIST_DIR}/ with the MNIST test IDX files (nothing is downloaded)"
        )
    options = _parse_knn_spec(spec)
    if "k" in options and "local_scale_neighbor" not in options:
        options["local_scale_neighbor"] = max(2, min(7, options["k"]))
    x, y = read_mnist_test(root)
    return knn_graph(x, labels=y, name="mnist-knn", **options)


def load_mnist_siamese(root: Optional[Union[str, os.PathLike]], spec: str = "") -> Graph:
    """The ``mnist-siamese`` dataset: the BASiS paper's MNIST graph.

    The 16-dimensional Siamese-network codes of the 10,000 MNIST test images
    (``<root>/MNIST-siamese/mnist_test_siamese.npz``: ``x`` float32 (n, 16), ``y`` int64),
    joined by the paper's kernel (``BASIS_KNN``: k = 10, sigma_i the 7th other neighbor, self-loop
    kept, ``(W + W^T) / 2``). ``spec`` may override ``k``, ``scale`` and ``kernel``.
    """
    if root is None:
        raise DatasetNotFoundError(
            "mnist-siamese needs a data root: pass `root` pointing at a folder that holds "
            f"{MNIST_SIAMESE_FILE} (nothing is downloaded)"
        )
    path = Path(root) / MNIST_SIAMESE_FILE
    if not path.is_file():
        raise DatasetNotFoundError(f"mnist-siamese: file {path} not found")
    try:
        with np.load(path) as data:
            x, y = data["x"], data["y"]
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidGraphError(f"cannot read {path} (expected arrays 'x' and 'y'): {exc}") from None
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise InvalidGraphError(f"{path}: 'x' must be (n, F) and 'y' (n,), got {x.shape} and {y.shape}")
    options = {**BASIS_KNN, **_parse_knn_spec(spec, "mnist-siamese")}
    return knn_graph(x, labels=y.astype(np.int64), name="mnist-siamese", **options)


# ---------------------------------------------------------------------- helpers
def _parse_knn_spec(spec: str, dataset: str = "mnist-knn") -> dict:
    aliases = {"k": "k", "local_scale_neighbor": "local_scale_neighbor",
               "scale": "local_scale_neighbor", "kernel": "kernel"}
    out: dict = {}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ConfigError(f"{dataset} spec: '{item}' is not of the form key=value")
        if key not in aliases:
            raise ConfigError(f"{dataset} spec: unknown key '{key}'; known: {', '.join(aliases)}")
        if key == "kernel":
            if value.strip() not in KNN_KERNELS:
                raise ConfigError(f"{dataset} spec: kernel must be {' or '.join(KNN_KERNELS)}, got '{value}'")
            out["kernel"] = value.strip()
            continue
        try:
            out[aliases[key]] = int(value.strip())
        except ValueError:
            raise ConfigError(
                f"{dataset} spec: '{key}' must be an integer, got '{value}'"
            ) from None
    return out


def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DatasetNotFoundError(
        f"MNIST file {stem}.gz (or {stem}) not found in {folder}; the root must hold "
        f"{MNIST_DIR}/ with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"
    )


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes: big-endian int32 magic, then one int32 per dim."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidGraphError(f"cannot read IDX file {path}: {exc}") from None
    header = 4 * (1 + ndim)
    if len(data) < header:
        raise InvalidGraphError(f"IDX file {path} is truncated ({len(data)} bytes, no header)")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise InvalidGraphError(
            f"IDX file {path} has magic number {found:#010x}, expected {magic:#010x}"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise InvalidGraphError(
            f"IDX file {path} should hold {expected} bytes of data for shape {dims}, "
            f"found {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
