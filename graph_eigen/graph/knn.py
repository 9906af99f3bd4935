"""k-nearest-neighbor graphs: the feature kNN graphs of the attributed operator, and Gaussian kNN
affinity graphs of points (as BASiS and SpectralNet build them). The searches are in neighbors.py.

**Attributed operator**: the graph plus k-nearest-neighbor graphs of its node features.

The eigenmap of A + w F, where F joins each node to its k nearest neighbors in feature space
(cosine similarity, symmetrized, unit weights; the search is faiss', exact up to 1e5 nodes and
approximate above, see neighbors.py), sees both the links and the feature similarity. Features
wider than ``KNN_DIMS`` are first projected on their top ``KNN_DIMS`` singular directions
(randomized SVD, directions.py; the encoder's input reads the leading ones): on Coauthor CS
(6,805 features) that cuts the search from minutes to seconds, at a small cost on DBLP, where the exact eigenmap probes 81.8 instead of 82.9 with all 1,639
features (docs/quality.md). Which features the neighbors are found in (``source``):

- ``raw``: the node features X;
- ``propagated``: SGC's A_hat^2 X (propagation.py), features averaged over two hops, so
  neighbors in that space also share their neighborhoods;
- ``both``: the kNN graphs of both added (each with weight w). This is the default: its exact
  eigenmap probes above SGC on Cora, CiteSeer, Photo, CS and DBLP (docs/quality.md).

Any objective trains on it unchanged: it is just another graph with edge weights.

**Gaussian kNN affinity graphs** (BASiS's ``knn`` batch operator, ``mnist-knn`` and ``mnist-siamese``).

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

import logging
from typing import NamedTuple, Optional

import numpy as np
import scipy.sparse as sp

from graph_eigen.config import FEATURE_KNN_SOURCES as SOURCES
from graph_eigen.errors import ConfigError, InvalidGraphError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.directions import KNN_DIMS, feature_directions, project
from graph_eigen.graph.neighbors import cosine_knn, euclidean_knn

log = logging.getLogger(__name__)

PROPAGATION_HOPS = 2  # as SGC
MIN_WEIGHT = 1e-12
KNN_KERNELS = ("self-tuning", "basis")
# the BASiS paper's graph: 10 neighbors counting the point, sigma_i = distance to the 7th other one
BASIS_KNN = {"k": 10, "local_scale_neighbor": 8, "kernel": "basis"}


def with_feature_knn(graph: Graph, k: int, weight: float = 1.0, source: str = "raw",
                     spaces: Optional[dict[str, FeatureSpace]] = None) -> Graph:
    """``graph`` unchanged when ``k`` is 0 (the option is off), else :func:`feature_knn_graph`."""
    return feature_knn_graph(graph, k, weight, source, spaces) if k else graph


def feature_knn_graph(graph: Graph, k: int, weight: float = 1.0, source: str = "raw",
                      spaces: Optional[dict[str, FeatureSpace]] = None) -> Graph:
    """``graph`` with ``weight`` x the symmetric kNN graph(s) of its features added (weights summed).
    ``spaces``: :func:`feature_spaces` of ``graph`` and ``source``, when the caller has them already."""
    if graph.x is None:
        raise ConfigError(f"`feature_knn` needs node features, but '{graph.name}' has none")
    if k < 1:
        raise ConfigError(f"`feature_knn` must be a positive number of neighbors, got {k}")
    if k >= graph.num_nodes:
        raise ConfigError(f"the operator joins each node to its {k} nearest feature neighbors (`feature_knn`), "
                          f"but '{graph.name}' has only {graph.num_nodes} nodes; it needs more than {k}")
    if not weight > 0:
        raise ConfigError(f"`feature_knn_weight` must be positive, got {weight}")
    if source not in SOURCES:
        raise ConfigError(f"`feature_knn_source` must be one of {', '.join(SOURCES)}, got '{source}'")
    combined = graph.adjacency().astype(np.float32)  # its self-loop diagonal is dropped below, the Graph keeps it
    for space in (spaces or feature_spaces(graph, source)).values():
        combined = combined + weight * knn_adjacency(space.rows, k, dims=0)  # rows projected already
    return Graph.from_symmetric_adjacency(combined, like=graph)


class FeatureSpace(NamedTuple):
    """The rows one kNN graph is searched in, and the projection that made them from its features."""

    projection: Optional[np.ndarray]  # F x KNN_DIMS, or None when the features are no wider
    rows: np.ndarray  # n x min(F, KNN_DIMS), float32


def feature_spaces(graph: Graph, source: str) -> dict[str, FeatureSpace]:
    """The spaces of the kNN graphs of ``source``: ``raw`` (the features X) and/or ``propagated``
    (SGC's A_hat^2 X), each projected on its top ``KNN_DIMS`` singular directions when wider."""
    spaces = {}
    if source in ("raw", "both"):
        projection = feature_directions(graph.x, KNN_DIMS)  # the tensor: its directions are kept
        spaces["raw"] = FeatureSpace(projection, project(graph.x.numpy(), projection))
    if source in ("propagated", "both"):
        from graph_eigen.graph.propagation import propagate_last

        smoothed = propagate_last(graph, graph.x, PROPAGATION_HOPS).numpy()
        projection = feature_directions(smoothed, KNN_DIMS)
        spaces["propagated"] = FeatureSpace(projection, project(smoothed, projection))
    return spaces


def knn_adjacency(features: np.ndarray, k: int, dims: int = KNN_DIMS, seed: int = 0) -> sp.csr_matrix:
    """The symmetric 0/1 adjacency joining every row to its k most cosine-similar other rows,
    searched among the rows projected on their top ``dims`` singular directions when wider."""
    n = features.shape[0]
    projection = feature_directions(features, dims, seed)
    features = project(features, projection)
    idx = cosine_knn(features, k)
    rows, cols = np.repeat(np.arange(n), k), idx.ravel()
    # an all-zero row is similar to nothing: it gets no kNN edges, and nobody gets it as a neighbor
    # (else every such row would be joined to the lowest ids, whose degree would pile up)
    blank = ~np.any(features != 0, axis=1)
    keep = ~(blank[rows] | blank[cols])
    rows, cols = rows[keep], cols[keep]
    knn = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n))
    knn = (knn + knn.T).sign()
    knn.setdiag(0)
    knn.eliminate_zeros()
    return knn


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
    dist, idx = euclidean_knn(x, k, n_jobs)  # (n, k), ascending; column 0 is (normally) the point itself
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
