"""kNN affinity graphs (as BASiS / SpectralNet build them), ``mnist-knn`` and ``mnist-siamese``.

Neighbors: each point is joined to its ``k`` nearest neighbors, where — as in the SpectralNet
and BASiS code — the point itself counts as the first of the ``k`` (so it gets ``k - 1``
other neighbors). ``sigma_i`` is the distance from ``x_i`` to its ``local_scale_neighbor``-th
neighbor, counted the same way (the point itself is the 1st). Two kernels (``kernel=``):

- ``self-tuning`` (the default; Zelnik-Manor & Perona)::

      w_ij = exp(-||x_i - x_j||^2 / (sigma_i * sigma_j))

  the self-loop is dropped and the graph symmetrized by :meth:`Graph.from_edges`, which keeps
  the larger of ``w_ij`` and ``w_ji`` (equal here except for non-mutual neighbors).
- ``basis`` (the BASiS paper's kernel, as its official code builds it)::

      w_ij = exp(-(||x_i - x_j|| / sigma_i)^2),   W <- (W + W^T) / 2

  the self-loop w_ii = 1 is kept (as ``Graph.self_loop``, so it counts in the degree), and a
  non-mutual neighbor gets half its weight. The paper's setting is ``BASIS_KNN``: k = 10 and
  sigma_i the distance to the 7th *other* neighbor, i.e. ``local_scale_neighbor = 8``.

Weights are floored at ``MIN_WEIGHT`` so that no kNN edge underflows to zero and vanishes.
"""
from __future__ import annotations

import gzip
import logging
import os
import zlib
from pathlib import Path
from typing import Optional, Union

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError, DatasetNotFoundError, InvalidGraphError
from ..graph import Graph

log = logging.getLogger(__name__)

MIN_WEIGHT = 1e-12
KNN_KERNELS = ("self-tuning", "basis")
# the BASiS paper's graph: 10 neighbors counting the point, sigma_i = distance to the 7th other one
BASIS_KNN = {"k": 10, "local_scale_neighbor": 8, "kernel": "basis"}
MNIST_SIAMESE_FILE = os.path.join("MNIST-siamese", "mnist_test_siamese.npz")
MNIST_DIR = os.path.join("MNIST-test", "raw")
MNIST_IMAGES = "t10k-images-idx3-ubyte"
MNIST_LABELS = "t10k-labels-idx1-ubyte"
_IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


def knn_graph(
    features: np.ndarray,
    k: int = 10,
    local_scale_neighbor: int = 7,
    labels: Optional[np.ndarray] = None,
    name: str = "knn",
    n_jobs: Optional[int] = None,
    kernel: str = "self-tuning",
) -> Graph:
    """The symmetric Gaussian kNN affinity graph of the rows of ``features`` (see module doc).

    ``k`` and ``local_scale_neighbor`` count the point itself as its own first neighbor, so
    ``2 <= local_scale_neighbor <= k``. ``kernel``: ``self-tuning`` or ``basis``. The features
    (and ``labels``) are kept on the graph.
    """
    from sklearn.neighbors import NearestNeighbors

    x = np.ascontiguousarray(np.asarray(features, dtype=np.float32))
    if x.ndim != 2 or x.shape[0] < 2:
        raise InvalidGraphError(f"knn: features must have shape (n >= 2, F), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InvalidGraphError("knn: features contain NaN or infinite values")
    n = x.shape[0]
    if not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ConfigError(f"knn: 'k' must be an integer in [2, {n}], got {k!r}")
    scale_ok = isinstance(local_scale_neighbor, (int, np.integer)) and 2 <= local_scale_neighbor
    if not scale_ok or local_scale_neighbor > k:
        raise ConfigError(
            f"knn: 'local_scale_neighbor' must be an integer in [2, k={k}], "
            f"got {local_scale_neighbor!r}"
        )
    if kernel not in KNN_KERNELS:
        raise ConfigError(f"knn: unknown kernel {kernel!r}; choose {' or '.join(KNN_KERNELS)}")
    nn = NearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(x)
    dist, idx = nn.kneighbors(x)  # (n, k), ascending; column 0 is (normally) the point itself
    dist = dist.astype(np.float64)
    sigma = dist[:, local_scale_neighbor - 1]
    positive = sigma[sigma > 0]
    # duplicated points can give sigma = 0: fall back to the smallest positive scale
    floor = positive.min() if positive.size else 1.0
    sigma = np.maximum(sigma, floor)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = idx.reshape(-1).astype(np.int64)
    if kernel == "basis":
        w = np.exp(-((dist.reshape(-1) / sigma[rows]) ** 2))
    else:
        w = np.exp(-(dist.reshape(-1) ** 2) / (sigma[rows] * sigma[cols]))
    np.maximum(w, MIN_WEIGHT, out=w)
    log.info("knn: %d points, k=%d, local scale from neighbor %d, %s kernel", n, k,
             local_scale_neighbor, kernel)
    if kernel == "self-tuning":
        return Graph.from_edges(
            np.vstack([rows, cols]), num_nodes=n, x=x, y=labels, edge_weight=w, name=name
        )
    a = sp.csr_matrix((w, (rows, cols)), shape=(n, n))
    a = ((a + a.T) / 2).tocoo()
    off = a.row != a.col
    return Graph.from_edges(
        np.vstack([a.row[off], a.col[off]]), num_nodes=n, x=x, y=labels, edge_weight=a.data[off],
        name=name, self_loop=a.diagonal(),
    )


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
