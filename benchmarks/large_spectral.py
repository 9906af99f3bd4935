"""Spectral accuracy of NeuralEF (`targets` estimator) + `sign` on an SBM of the products family.

This configuration (presets.neuralef_sign_config) was the large-graph default until 2026-12-06;
today's default learns the feature-span eigenmap instead, whose figures on real tiled graphs
(d_G against the exact eigenmap and against its own targets) come from benchmarks/pipeline.py.

    python benchmarks/large_spectral.py [--nodes N] [--method M] [--epochs E] [--json PATH]

The results files (docs/large_graphs.md; each records its configuration): ``large_spectral_1000000.json``
(8 epochs; the Chebyshev solver without locking), ``_12epochs.json`` (``--method
auto``: the exact solve came from the cache) and ``_locking.json`` (the defaults, with the locking
Chebyshev solver). With its 12 epochs:

    python benchmarks/large_spectral.py --nodes 1000000 --epochs 8 --json benchmarks/results/large_spectral_1000000.json
    python benchmarks/large_spectral.py --nodes 1000000 --method auto \
        --json benchmarks/results/large_spectral_1000000_12epochs.json
    python benchmarks/large_spectral.py --nodes 1000000 --json benchmarks/results/large_spectral_1000000_locking.json

Steps: build the graph; solve the top 64 eigenpairs of K exactly (timed, without the cache;
``--method``, default chebyshev); find the K <= 64 with the widest relative eigengap
(mu_K - mu_K+1) / (1 - mu_K) of K; train with the library's default configuration for the
NeuralEF + sign configuration; export; d_G of the first K columns against the exact eigenvectors.
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from graph_eigen.data import load_dataset
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.io import save_json
from graph_eigen.runs.presets import neuralef_sign_config
from graph_eigen.runs.recorder import train
from graph_eigen.spectral.eigsolve import exact_eigenpairs
from harness import peak_rss_gib


def widest_relative_gap(mu: np.ndarray) -> tuple[int, float]:
    """(K, gap): the K in 2..len(mu) - 1 maximizing (mu_K - mu_K+1) / (1 - mu_K), mu descending."""
    gaps = (mu[1:-1] - mu[2:]) / np.maximum(1 - mu[1:-1], 1e-12)
    best = int(np.argmax(gaps))
    return best + 2, float(gaps[best])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--method", default="chebyshev", help="exact solver (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    dataset = f"sbm:preset=products,n={args.nodes}"
    graph = load_dataset(dataset)
    start = time.perf_counter()
    exact = exact_eigenpairs(graph, 64, method=args.method)  # an explicit method: never the cache
    exact_seconds = time.perf_counter() - start
    mu = 1.0 - exact.values
    k, gap = widest_relative_gap(mu)
    cfg = neuralef_sign_config(dataset)
    if args.epochs:
        cfg.epochs = args.epochs
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        model = train(cfg, graph, Path(tmp) / "run", progress=False)
        train_seconds = time.perf_counter() - start
        embedding = model.embed(graph)
    result = {"dataset": dataset, "nodes": graph.num_nodes, "edges": graph.num_edges,
              "exact_method": exact.method, "exact_seconds_k64": round(exact_seconds, 1),
              "k_widest_gap": k, "relative_gap": round(gap, 3), "mu_k": float(mu[k - 1]), "mu_k_plus_1": float(mu[k]),
              "d_G_at_k": subspace_distance(embedding[:, :k], exact.vectors[:, :k]),
              "train_seconds": round(train_seconds, 1), "config": cfg.to_dict(),
              "peak_rss_gib": round(peak_rss_gib(), 2),
              "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    print(json.dumps({key: result[key] for key in result if key != "config"}))
    if args.json:
        save_json(args.json, result)


if __name__ == "__main__":
    main()
