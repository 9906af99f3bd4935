"""Attributed operator: the graph plus k-nearest-neighbor graphs of its node features.

The eigenmap of A + w F, where F joins each node to its k nearest neighbors in feature space
(cosine similarity, symmetrized, unit weights; the search is faiss', exact up to 1e5 nodes and
approximate above, see neighbors.py), sees both the links and the feature similarity. Features
wider than ``KNN_DIMS`` are first projected on their top ``KNN_DIMS`` singular directions
(randomized SVD): on Coauthor CS (6,805 features) that cuts the search from minutes to seconds,
at a small cost on DBLP, where the exact eigenmap probes 81.8 instead of 82.9 with all 1,639
features (docs/quality.md). Which features the neighbors are found in (``source``):

- ``raw``: the node features X;
- ``propagated``: SGC's A_hat^2 X (propagation.py), features averaged over two hops, so
  neighbors in that space also share their neighborhoods;
- ``both``: the kNN graphs of both added (each with weight w). This is the default: its exact
  eigenmap probes above SGC on Cora, CiteSeer, Photo, CS and DBLP (docs/quality.md).

Any objective trains on it unchanged: it is just another graph with edge weights.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .config import FEATURE_KNN_SOURCES as SOURCES
from .errors import ConfigError
from .graph import Graph

PROPAGATION_HOPS = 2  # as SGC
KNN_DIMS = 512  # wider features are reduced to this many dimensions (truncated SVD) before the search


def with_feature_knn(graph: Graph, k: int, weight: float = 1.0, source: str = "raw") -> Graph:
    """``graph`` unchanged when ``k`` is 0 (the option is off), else :func:`feature_knn_graph`."""
    return feature_knn_graph(graph, k, weight, source) if k else graph


def feature_knn_graph(graph: Graph, k: int, weight: float = 1.0, source: str = "raw") -> Graph:
    """``graph`` with ``weight`` x the symmetric kNN graph(s) of its features added (weights summed)."""
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
    if source in ("raw", "both"):
        combined = combined + weight * knn_adjacency(graph.x.numpy(), k)
    if source in ("propagated", "both"):
        from .propagation import propagate_last

        smoothed = propagate_last(graph, graph.x, PROPAGATION_HOPS).numpy()
        combined = combined + weight * knn_adjacency(smoothed, k)
    return Graph.from_symmetric_adjacency(combined, like=graph)


def knn_projection(features: np.ndarray, dims: int = KNN_DIMS, seed: int = 0):
    """The F x ``dims`` projection on the features' top singular directions (randomized SVD) that
    the kNN search reads wider features through, or None when they are no wider than ``dims``."""
    if not dims or features.shape[1] <= dims:
        return None
    from sklearn.utils.extmath import randomized_svd

    _, _, vt = randomized_svd(features, dims, random_state=seed)
    return vt.T


def knn_adjacency(features: np.ndarray, k: int, dims: int = KNN_DIMS, seed: int = 0) -> sp.csr_matrix:
    """The symmetric 0/1 adjacency joining every row to its k most cosine-similar other rows,
    searched among the rows projected on their top ``dims`` singular directions when wider."""
    from .neighbors import cosine_knn

    n = features.shape[0]
    projection = knn_projection(features, dims, seed)
    if projection is not None:
        features = features @ projection
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
