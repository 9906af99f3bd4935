"""A products-like graph from real data: a real attributed graph tiled into C copies.

``tiled:CS,copies=55,noise=0.5,p=0.1,seed=0`` (or ``nodes=1000000`` instead of ``copies``)
builds, deterministically and offline:

- **features**: the base graph's features (log1p of counts when non-negative) reduced to
  ``dims`` = 100 dimensions by a truncated SVD, columns standardized, as ogbn-products has 100-d
  PCA features; every copy gets its own Gaussian noise of std ``noise`` on top;
- **labels**: the original node's label, in every copy;
- **edges**: every undirected edge (i, j) of the base graph joins i and j inside each copy k,
  or, with probability ``p``, joins (i, k) to (j, k') for a copy k' drawn at random, so that the
  copies are one connected graph and not C disjoint ones.

Unlike an SBM, whose classes any method that averages over neighbors separates (SGC 100 %),
its probe does not saturate. Know its bias: copies share their original's label and nearly its
features, so a random split puts most originals in training, which favours methods that keep
per-node features; report several copy counts and noise levels (docs/large_graphs.md).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph

DIMS = 100  # ogbn-products' feature width
_KEYS: dict[str, type] = {"copies": int, "nodes": int, "noise": float, "p": float, "dims": int, "seed": int}
DEFAULTS: dict[str, Any] = {"noise": 0.5, "p": 0.1, "dims": DIMS, "seed": 0}


def load_tiled(spec: str, root: Optional[str], load_dataset: Callable[[str, Optional[str]], Graph]) -> Graph:
    """Parse ``BASE,key=value,...`` and build :func:`tile_graph` of the graph BASE, which
    ``load_dataset`` (the registry's loader) reads from ``root``."""
    base_name, _, rest = spec.partition(",")
    if not base_name.strip():
        raise ConfigError("tiled spec: name the base graph first, e.g. 'tiled:CS,nodes=1000000'")
    params = dict(DEFAULTS)
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in _KEYS:
            raise ConfigError(f"tiled spec: '{item}' is not key=value with a key among {', '.join(_KEYS)}")
        params[key] = _parse(key, value.strip(), _KEYS[key])
    if "copies" in params and "nodes" in params:
        raise ConfigError("tiled spec: give `copies` or `nodes`, not both")
    base = load_dataset(base_name.strip(), root)
    copies = params.pop("copies", None)
    nodes = params.pop("nodes", None)
    if copies is None:
        copies = max(1, round((nodes or base.num_nodes) / base.num_nodes))
    return tile_graph(base, copies, **params)


def tile_graph(base: Graph, copies: int, noise: float = 0.5, p: float = 0.1, dims: int = DIMS,
               seed: int = 0) -> Graph:
    """``copies`` copies of ``base`` (see the module docstring); node ``k * n + i`` is copy k of i."""
    if base.x is None:
        raise ConfigError(f"tiled: the base graph '{base.name}' has no features to reduce")
    if not (isinstance(copies, int) and copies >= 1):
        raise ConfigError(f"tiled: `copies` must be an integer >= 1, got {copies!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ConfigError(f"tiled: `noise` must be a number >= 0, got {noise!r}")
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"tiled: `p` must lie in [0, 1], got {p!r}")
    n = base.num_nodes
    rng = np.random.default_rng(seed)
    reduced = reduce_features(base.x.numpy(), dims, seed)
    x = np.empty((copies * n, reduced.shape[1]), dtype=np.float32)
    for k in range(copies):
        x[k * n:(k + 1) * n] = reduced + rng.normal(0.0, noise, size=reduced.shape).astype(np.float32)
    ei = base.edge_index.numpy()
    src, dst = ei[:, ei[0] < ei[1]]
    m = src.size
    src_copy = np.repeat(np.arange(copies, dtype=np.int64), m)
    dst_copy = src_copy.copy()
    moved = rng.random(copies * m) < p
    dst_copy[moved] = rng.integers(0, copies, size=int(moved.sum()))
    edges = np.vstack([np.tile(src, copies) + src_copy * n, np.tile(dst, copies) + dst_copy * n])
    y = None if base.y is None else np.tile(base.y.numpy(), copies)
    name = f"tiled-{base.name}-{copies}"
    return Graph.from_edges(edges, num_nodes=copies * n, x=x, y=y, name=name)


def reduce_features(x: np.ndarray, dims: int, seed: int = 0) -> np.ndarray:
    """log1p when non-negative, truncated SVD to ``dims`` columns, each column standardized."""
    from sklearn.utils.extmath import randomized_svd

    x = np.asarray(x, dtype=np.float64)
    if (x >= 0).all():
        x = np.log1p(x)
    x = x - x.mean(axis=0)
    dims = min(dims, min(x.shape) - 1)
    u, s, _ = randomized_svd(x, dims, random_state=seed)
    z = u * s
    return ((z - z.mean(axis=0)) / np.maximum(z.std(axis=0), 1e-12)).astype(np.float32)


def _parse(key: str, value: str, kind: type):
    try:
        number = float(value)
        if not math.isfinite(number) or (kind is int and number != int(number)):
            raise ValueError
        return int(number) if kind is int else number
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise ConfigError(f"tiled spec: '{key}' must be {what}, got '{value}'") from None
