"""Attributed operator: the graph plus a k-nearest-neighbor graph of its node features.

The eigenmap of A + w F, where F joins each node to its k nearest neighbors in feature space
(cosine similarity, symmetrized, unit weights; the search is faiss', exact up to 1e5 nodes and
approximate above, see neighbors.py), sees both the links and the feature similarity;
on Amazon Photo its exact eigenmap probes as well as SGC (docs/results.md). Any objective trains on it
unchanged: it is just another graph with edge weights.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError
from .graph import Graph


def with_feature_knn(graph: Graph, k: int, weight: float = 1.0) -> Graph:
    """``graph`` unchanged when ``k`` is 0 (the option is off), else :func:`feature_knn_graph`."""
    return feature_knn_graph(graph, k, weight) if k else graph


def feature_knn_graph(graph: Graph, k: int, weight: float = 1.0) -> Graph:
    """``graph`` with ``weight`` x the symmetric kNN graph of its features added (weights summed)."""
    from .neighbors import cosine_knn

    if graph.x is None:
        raise ConfigError(f"--feature-knn needs node features, but '{graph.name}' has none")
    if not 1 <= k < graph.num_nodes:
        raise ConfigError(f"--feature-knn must lie in [1, {graph.num_nodes - 1}], got {k}")
    if not weight > 0:
        raise ConfigError(f"--feature-knn-weight must be positive, got {weight}")
    idx = cosine_knn(graph.x.numpy(), k)
    n = graph.num_nodes
    rows, cols = np.repeat(np.arange(n), k), idx.ravel()
    knn = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    knn = (knn + knn.T).sign()
    knn.setdiag(0)
    combined = (graph.adjacency() + weight * knn).tocoo()
    return Graph.from_edges(np.vstack([combined.row, combined.col]), num_nodes=n, x=graph.x, y=graph.y,
                            edge_weight=combined.data, split=graph.split,
                            name=graph.name, self_loop=graph.self_loop)
