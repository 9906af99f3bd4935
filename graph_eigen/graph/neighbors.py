"""k-nearest-neighbor search: by cosine similarity with faiss (the feature kNN graphs), exact when
small, IVF above; by Euclidean distance with scikit-learn (the Gaussian kNN affinity graphs).

Up to ``EXACT_LIMIT`` points the search is exact (a flat inner-product index). Above, an
inverted-file index (IVF-Flat, ``4 sqrt(n)`` lists trained by k-means on a sample, ``NPROBE``
lists searched per query) returns approximate neighbors; its recall is reported by
``benchmarks/feature_knn.py``. A point is never its own neighbor, also when another row has
the same features (then it can sort after its duplicate, and dropping the first column
would drop a real neighbor and keep the point itself).
"""
from __future__ import annotations

import logging

import numpy as np

from graph_eigen.errors import ConfigError

log = logging.getLogger(__name__)

EXACT_LIMIT = 100_000
NPROBE = 6
TRAIN_SAMPLE = 200_000


def cosine_knn(features: np.ndarray, k: int, seed: int = 0, exact: bool | None = None) -> np.ndarray:
    """(n, k) ids of each row's k most cosine-similar other rows (best first)."""
    n = features.shape[0]
    if not 1 <= k < n:
        raise ConfigError(f"k must lie in [1, {n - 1}] for {n} points, got {k}")
    x = unit_rows(features)
    _, idx = cosine_index(x, seed, exact).search(x, k + 1)
    return _drop_self(idx, k)


def euclidean_knn(points: np.ndarray, k: int, n_jobs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(distances, ids), each (n, k), ascending, of each row's k nearest rows by Euclidean distance;
    the row itself normally comes first (exact search, scikit-learn)."""
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(points).kneighbors(points)


def unit_rows(features: np.ndarray) -> np.ndarray:
    """``features`` as contiguous float32 rows of unit norm (a zero row stays zero: similarity 0
    to everything), what the inner-product indexes hold and are searched with."""
    x = np.ascontiguousarray(features, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_index(rows: np.ndarray, seed: int = 0, exact: bool | None = None, quantizer=None):
    """A faiss inner-product index holding ``rows`` (as :func:`unit_rows` gives them):
    flat (exact) up to ``EXACT_LIMIT`` rows, IVF-Flat above. ``quantizer``: the trained coarse
    quantizer of another IVF index over the same space, reused (its lists) instead of training
    one by k-means: the new rows of an enlarged graph are filed under the old rows' lists."""
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a dependency
        raise ConfigError("the feature kNN graph needs faiss: pip install faiss-cpu") from exc

    n, d = rows.shape
    exact = n <= EXACT_LIMIT if exact is None else exact
    if exact:
        index = faiss.IndexFlatIP(d)
    elif quantizer is not None:  # probe the share of the lists that an index of its own would
        index = faiss.IndexIVFFlat(quantizer, d, quantizer.ntotal, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = max(NPROBE, round(NPROBE * quantizer.ntotal / (4 * np.sqrt(n))))
    else:
        lists = int(4 * np.sqrt(n))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(n, size=min(n, max(TRAIN_SAMPLE, 40 * lists)), replace=False)
        index.cp.seed = seed
        index.train(rows[np.sort(sample)])
        index.nprobe = NPROBE
    index.add(rows)
    return index


def _drop_self(idx: np.ndarray, k: int) -> np.ndarray:
    """Remove each row's own id (wherever it sorted) and the -1 of a short list; keep k."""
    own = idx == np.arange(len(idx))[:, None]
    missing = idx < 0
    keep = ~(own | missing)
    # rows where the point itself was not returned keep their first k neighbors
    extra = keep.sum(axis=1) > k
    keep[extra, np.argmax(np.cumsum(keep[extra], axis=1) > k, axis=1)] = False
    counts = keep.sum(axis=1)
    if (counts < k).any():  # too few found (an IVF list too small): repeat the best neighbor
        log.warning("%d points got fewer than %d neighbors from the index", int((counts < k).sum()), k)
    out = np.empty((len(idx), k), dtype=np.int64)
    for row in np.flatnonzero(counts < k):
        found = idx[row][keep[row]]
        out[row] = np.resize(found if found.size else [row], k)
    full = counts == k
    out[full] = idx[full][keep[full]].reshape(-1, k)
    return out
