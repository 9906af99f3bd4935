"""`graph-eigen eval`: an embedding against the exact eigenvectors of L_sym."""
from __future__ import annotations

import time

import numpy as np

from ..eigsolve import exact_eigenpairs
from ..errors import ConfigError
from ..graph import Graph
from ..operators import laplacian
from .cluster import kmeans_scores
from .spectral import (eigenvalue_error, grassmann_paper_formula, orthogonality, rayleigh_quotients,
                       subspace_distance)


def check_rows(embedding: np.ndarray, graph: Graph) -> None:
    if embedding.ndim != 2 or embedding.shape[0] != graph.num_nodes:
        raise ConfigError(
            f"embedding has shape {tuple(embedding.shape)} but dataset '{graph.name}' has "
            f"{graph.num_nodes} nodes: one row per node is required")
    if not np.all(np.isfinite(embedding)):
        raise ConfigError("embedding contains NaN or infinite values")


def spectral_report(embedding: np.ndarray, graph: Graph, k: int | None = None, nodes=None,
                    clustering: bool = True) -> dict:
    """d_G, the paper's d_G formula, d_perp, Rayleigh quotients and eigenvalue error; KMeans
    NMI/ACC when labels exist.

    ``k`` (default: the embedding's width) exact eigenvectors are the reference; ``nodes``
    restricts d_G, the paper formula and a second KMeans (``clustering_learned_on_nodes``) to a
    subset of rows (e.g. nodes unseen in training).
    """
    check_rows(embedding, graph)
    k = k or embedding.shape[1]
    start = time.perf_counter()
    exact = exact_eigenpairs(graph, k)
    exact_seconds = time.perf_counter() - start
    rows = slice(None) if nodes is None else np.asarray(nodes)
    learned = embedding.astype(np.float64)
    rq = np.sort(rayleigh_quotients(learned, laplacian(graph, "sym")))
    out = {
        "k": int(k), "dim": int(embedding.shape[1]), "nodes": int(graph.num_nodes),
        "d_G": subspace_distance(learned[rows], exact.vectors[rows]),
        "d_G_paper_formula": grassmann_paper_formula(learned[rows], exact.vectors[rows]),
        "d_perp": orthogonality(learned),
        "exact_eigenvalues": exact.values.tolist(),
        "rayleigh_quotients": rq.tolist(),
        "exact_seconds": exact_seconds,
        "d_G_note": "sum of squared sines of principal angles after QR orthonormalization",
        "d_G_paper_formula_note": "the BASiS paper's formula: sum(1 - s^2) over the singular values of "
                                  "column-normalized (not orthonormalized) matrices; not a distance, can be < 0",
    }
    if embedding.shape[1] == k:
        out["eigenvalue_error"] = eigenvalue_error(rq, exact.values)
    if nodes is not None:
        out["evaluated_nodes"] = int(len(rows))
    if clustering and graph.y is not None and graph.num_classes > 1:
        out["clustering_learned"] = kmeans_scores(learned, graph.y.numpy())
        out["clustering_exact"] = kmeans_scores(exact.vectors, graph.y.numpy())
        if nodes is not None:
            out["clustering_learned_on_nodes"] = kmeans_scores(learned[rows], graph.y.numpy()[rows])
    return out
