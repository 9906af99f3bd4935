"""A disk cache of exact eigensolves, keyed by the graph's edges, K, the Laplacian and drop_first.

At a million nodes an exact solve takes minutes; ``train`` (BASiS' global targets), ``eval`` and
the probe's baselines would otherwise solve the same problem again in every process. The key
hashes the graph's node count, edges and weights, so an attributed operator (``--feature-knn``)
or an induced subgraph gets its own entry. Folder: ``eigenpairs/`` in the datasets' cache
(``$GRAPH_EIGEN_CACHE``, default ``~/.cache/graph_eigen``); ``GRAPH_EIGEN_EIGEN_CACHE=off``
turns it off. Graphs under
``MIN_NODES`` nodes are solved in about a second and are not cached.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Optional

import numpy as np

from graph_eigen.graph.core import Graph

log = logging.getLogger(__name__)

MIN_NODES = 5000


def cache_folder() -> Optional[Path]:
    """The cache folder, or None when the cache is off."""
    if os.environ.get("GRAPH_EIGEN_EIGEN_CACHE", "").lower() in ("off", "0", "none"):
        return None
    from graph_eigen.data.paths import default_cache

    return Path(default_cache()) / "eigenpairs"


def graph_fingerprint(graph: Graph) -> str:
    """A hash of the graph's node count, edges, edge weights and self-loops (memoized on the graph)."""
    cached = getattr(graph, "_fingerprint", None)
    if cached is not None:
        return cached
    digest = hashlib.sha1(str(graph.num_nodes).encode())
    digest.update(np.ascontiguousarray(graph.edge_index.numpy()).data)
    if graph.edge_weight is not None:
        digest.update(np.ascontiguousarray(graph.edge_weight.numpy()).data)
    if graph.self_loop is not None:  # the diagonal changes the degrees and so the operator
        digest.update(b"self_loop")
        digest.update(np.ascontiguousarray(graph.self_loop.numpy()).data)
    graph._fingerprint = digest.hexdigest()
    return graph._fingerprint


def cache_path(graph: Graph, k: int, laplacian_kind: str, drop_first: bool) -> Optional[Path]:
    """Where the solve of this graph, K and operator lives; None when it is not cached."""
    folder = cache_folder()
    if folder is None or graph.num_nodes < MIN_NODES:
        return None
    return folder / f"{_operator_key(graph, laplacian_kind, drop_first)}-k{k}.npz"


def _operator_key(graph: Graph, laplacian_kind: str, drop_first: bool) -> str:
    return f"{graph_fingerprint(graph)}-{laplacian_kind}{'-drop' if drop_first else ''}"


def _k_of(path: Path) -> int:
    digits = path.stem.rsplit("-k", 1)[1]
    return int(digits) if digits.isdigit() else -1


def load_cached(path: Optional[Path]):
    """(values, vectors, method) from the cache, or None (missing or unreadable).

    A solve of the same graph and operator with a larger K serves too: its first K pairs.
    """
    if path is None or not path.parent.is_dir():
        return None
    k, operator = _k_of(path), path.stem.rsplit("-k", 1)[0]
    larger = sorted((p for p in path.parent.glob(f"{operator}-k*.npz") if _k_of(p) >= k), key=_k_of)
    for candidate in larger:
        try:
            with np.load(candidate) as data:
                return data["values"][:k], data["vectors"][:, :k], str(data["method"])
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring the unreadable cached eigensolve %s: %s", candidate, exc)
    return None


def store(path: Optional[Path], values: np.ndarray, vectors: np.ndarray, method: str) -> None:
    """Write a solve to the cache (atomically); a cache that cannot be written is skipped."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, values=values, vectors=vectors, method=np.array(method))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not cache the eigensolve in %s: %s", path.parent, exc)
