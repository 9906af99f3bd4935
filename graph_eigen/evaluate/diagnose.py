"""Batch consistency: how far a batch operator's eigenvectors are from the global ones.

For each batch: the batch operator's k eigenvectors, affinely aligned to the exact global
eigenvectors through the anchor rows, compared (d_G) with the exact global eigenvectors
restricted to the batch nodes. 0 = consistent, k = orthogonal.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.core import Graph
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives.alignment import apply_affine, fit_affine
from graph_eigen.model.objectives.basis import BASiS
from graph_eigen.spectral.eigsolve import exact_eigenpairs


def batch_consistency(graph: Graph, k: int, batch_size: int, fanouts: list[int], operator: str = "sampled",
                      anchors: int = 256, batches: int = 5, seed: int = 0,
                      exact: Optional[np.ndarray] = None) -> dict:
    """Mean and spread of the aligned batch-vs-global d_G over ``batches`` batches."""
    start = time.perf_counter()
    if exact is None:
        exact = exact_eigenpairs(graph, k).vectors
    exact_seconds = time.perf_counter() - start
    basis = BASiS(k, anchors=anchors, batch_operator=operator, seed=seed)
    sampler = BatchSampler(graph, batch_size, fanouts, seed=seed, anchors=basis.anchor_nodes(graph))
    basis.attach(graph, sampler, exact if operator == "global" else None)
    distances, sizes, seconds = [], [], []
    for i, batch in enumerate(sampler.epoch()):
        if i == batches:
            break
        t0 = time.perf_counter()
        phi, _ = basis.batch_eigenvectors(batch)
        seconds.append(time.perf_counter() - t0)
        rows = batch.n_id.numpy()
        target = exact[rows]
        a = np.arange(batch.num_anchors)
        aligned = apply_affine(fit_affine(phi[a], target[a]), phi)
        distances.append(subspace_distance(aligned, target))
        sizes.append(len(rows))
    return {
        "graph": graph.name, "nodes": graph.num_nodes, "k": k, "operator": operator,
        "seeds_per_batch": batch_size, "anchors": anchors, "fanouts": list(fanouts),
        "batch_nodes_mean": float(np.mean(sizes)), "batch_fraction": float(np.mean(sizes) / graph.num_nodes),
        "d_G_mean": float(np.mean(distances)), "d_G_std": float(np.std(distances)),
        "d_G_per_batch": distances, "batch_eig_seconds_mean": float(np.mean(seconds)),
        "global_solve_seconds": exact_seconds,
    }
