"""`graph-eigen eval`: an embedding against the exact eigenvectors of L_sym."""
from __future__ import annotations

import time

import numpy as np

from graph_eigen.errors import ConfigError
from graph_eigen.evaluate.cluster import kmeans_scores
from graph_eigen.graph.core import Graph
from graph_eigen.graph.operators import laplacian
from graph_eigen.spectral.eigsolve import exact_eigenpairs
from graph_eigen.evaluate.spectral import (eigenvalue_error, grassmann_paper_formula, orthogonality, rayleigh_quotients,
                       subspace_distance)


def check_rows(embedding: np.ndarray, graph: Graph) -> None:
    """Refuse an embedding that is not a finite real n x K array for ``graph``."""
    if not (np.issubdtype(embedding.dtype, np.floating) or np.issubdtype(embedding.dtype, np.integer)):
        raise ConfigError(f"embedding must hold real numbers, got dtype {embedding.dtype}")
    if embedding.ndim != 2 or embedding.shape[0] != graph.num_nodes:
        raise ConfigError(
            f"embedding has shape {tuple(embedding.shape)} but dataset '{graph.name}' has "
            f"{graph.num_nodes} nodes: one row per node is required")
    if not np.all(np.isfinite(embedding)):
        raise ConfigError("embedding contains NaN or infinite values")


GAP_TOLERANCE = 1e-6  # eigengaps at or below it: the K-th and (K+1)-th eigenvalues are equal


def check_nodes(nodes, num_nodes: int, k: int) -> np.ndarray:
    """Node ids for d_G over a subset of rows: integer, 1-D, in range, distinct, at least ``k``."""
    nodes = np.asarray(nodes)
    if nodes.ndim != 1 or not np.issubdtype(nodes.dtype, np.integer):
        raise ConfigError(f"`nodes` must be a 1-D array of integer node ids, got shape {nodes.shape} "
                          f"of {nodes.dtype}")
    if nodes.size and (nodes.min() < 0 or nodes.max() >= num_nodes):
        raise ConfigError(f"`nodes` has ids outside [0, {num_nodes}): min {nodes.min()}, max {nodes.max()}")
    if np.unique(nodes).size != nodes.size:
        raise ConfigError("`nodes` lists some node ids more than once")
    if nodes.size <= k:  # K rows or fewer span all of R^rows: d_G would not measure anything
        raise ConfigError(f"`nodes` has {nodes.size} ids but d_G at K = {k} needs more than {k} rows")
    return nodes.astype(np.int64)


def spectral_report(embedding: np.ndarray, graph: Graph, k: int | None = None, nodes=None,
                    clustering: bool = True) -> dict:
    """d_G, the paper's d_G formula, d_perp, Rayleigh quotients and eigenvalue error; KMeans
    NMI/ACC when labels exist.

    ``k`` (default: the embedding's width) exact eigenvectors are the reference; ``nodes``
    restricts d_G, the paper formula and a second KMeans (``clustering_learned_on_nodes``) to a
    subset of rows (e.g. nodes unseen in training).
    """
    check_rows(embedding, graph)
    k = embedding.shape[1] if k is None else int(k)
    if k < 1:
        raise ConfigError(f"`k` must be a positive number of eigenvectors, got {k}")
    if nodes is not None:
        nodes = check_nodes(nodes, graph.num_nodes, k)
    start = time.perf_counter()
    more = k + 1 < graph.num_nodes  # one eigenvalue beyond K gives the eigengap at K
    exact = exact_eigenpairs(graph, k + 1 if more else k)
    exact_seconds = time.perf_counter() - start
    values, vectors = exact.values[:k], exact.vectors[:, :k]
    gap = float(exact.values[k] - exact.values[k - 1]) if more else None
    rows = slice(None) if nodes is None else nodes
    learned = embedding.astype(np.float64)
    rq = np.sort(rayleigh_quotients(learned, laplacian(graph, "sym")))
    out = {
        "k": int(k), "dim": int(embedding.shape[1]), "nodes": int(graph.num_nodes),
        "d_G": subspace_distance(learned[rows], vectors[rows]),
        "d_G_paper_formula": grassmann_paper_formula(learned[rows], vectors[rows]),
        "d_perp": orthogonality(learned),
        "eigengap": gap,
        "subspace_determined": gap is None or gap > GAP_TOLERANCE,
        "exact_eigenvalues": values.tolist(),
        "rayleigh_quotients": rq.tolist(),
        "exact_seconds": exact_seconds,
        "exact_method": exact.method,
        "exact_residual": exact.residual,
        "d_G_note": "sum of squared sines of principal angles after QR orthonormalization",
        "d_G_paper_formula_note": "the BASiS paper's formula: sum(1 - s^2) over the singular values of "
                                  "column-normalized (not orthonormalized) matrices; not a distance, can be < 0",
    }
    if embedding.shape[1] == k:
        out["eigenvalue_error"] = eigenvalue_error(rq, values)
    if nodes is not None:
        out["evaluated_nodes"] = int(len(rows))
    if not out["subspace_determined"]:
        out["warning"] = (f"eigenvalues {k} and {k + 1} are equal (gap {gap:.2g}): the first-{k} eigenspace is "
                          f"not determined, so d_G against it is meaningless; evaluate at a K with a gap")
    if clustering and graph.y is not None and graph.num_classes > 1:
        out["clustering_learned"] = kmeans_scores(learned, graph.y.numpy())
        out["clustering_exact"] = kmeans_scores(vectors, graph.y.numpy())
        if nodes is not None:
            out["clustering_learned_on_nodes"] = kmeans_scores(learned[rows], graph.y.numpy()[rows])
    return out
