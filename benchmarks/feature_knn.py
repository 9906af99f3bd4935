"""Time the feature kNN graph (faiss) on a dataset and measure its recall against brute force.

    python benchmarks/feature_knn.py --dataset tiled:CS --root ../shared/datasets --nodes 2449029 \
        --json benchmarks/results/feature_knn_tiled_2449029.json        # real features, products' size
    python benchmarks/feature_knn.py                                   # sbm:preset=products
    python benchmarks/feature_knn.py --nodes 1000000 --json benchmarks/results/feature_knn_1000000.json

``benchmarks/results/feature_knn_2449029.json`` came from

    python benchmarks/feature_knn.py --json benchmarks/results/feature_knn_2449029.json

Recall: for ``--queries`` random points, the fraction of their exact k nearest neighbors
(cosine, by brute force over all points) that the index returned. Above 100,000 points the
index is approximate (IVF-Flat); below it is exact.
"""
from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

from graph_eigen.data import load_dataset
from graph_eigen.graph.neighbors import EXACT_LIMIT, NPROBE, cosine_knn
from graph_eigen.io import save_json
from harness import peak_rss_gib


def brute_force(x: np.ndarray, queries: np.ndarray, k: int, chunk: int = 1 << 17) -> np.ndarray:
    """Exact cosine k nearest neighbors of the rows ``queries`` (themselves excluded), keeping
    only each chunk's best k so that memory stays at queries x (chunk + k)."""
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    q = unit[queries]
    best_sim = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_idx = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(unit), chunk):
        sims = q @ unit[start:start + chunk].T
        own = (queries >= start) & (queries < start + chunk)
        sims[np.flatnonzero(own), queries[own] - start] = -np.inf
        sims = np.concatenate([best_sim, sims], axis=1)
        ids = np.concatenate([best_idx, np.broadcast_to(np.arange(start, start + sims.shape[1] - best_sim.shape[1]),
                                                        (len(queries), sims.shape[1] - best_sim.shape[1]))], axis=1)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best_sim, best_idx = np.take_along_axis(sims, top, axis=1), np.take_along_axis(ids, top, axis=1)
    return best_idx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="sbm:preset=products", help="registry name (default %(default)s)")
    parser.add_argument("--root", default=None)
    parser.add_argument("--nodes", type=int, default=None, help="size of an sbm: or tiled: dataset")
    parser.add_argument("--k", type=int, default=10, help="neighbors per point (default %(default)s)")
    parser.add_argument("--queries", type=int, default=1000, help="points whose recall is measured")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    key = "nodes" if args.dataset.startswith("tiled:") else "n"
    dataset = args.dataset if args.nodes is None else f"{args.dataset},{key}={args.nodes}"
    graph = load_dataset(dataset, args.root)
    x = graph.x.numpy()
    start = time.perf_counter()
    idx = cosine_knn(x, args.k)
    seconds = time.perf_counter() - start
    queries = np.random.default_rng(0).choice(len(x), size=min(args.queries, len(x)), replace=False)
    exact = brute_force(x, queries, args.k)
    recall = float(np.mean([len(set(a) & set(b)) / args.k for a, b in zip(idx[queries], exact)]))
    result = {"dataset": dataset, "nodes": graph.num_nodes, "features": graph.num_features, "k": args.k,
              "index": "exact (flat)" if len(x) <= EXACT_LIMIT else f"IVF-Flat, nprobe {NPROBE}",
              "seconds": round(seconds, 1), "recall": round(recall, 4), "queries": len(queries),
              "peak_rss_gib": round(peak_rss_gib(), 2),
              "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    print(json.dumps(result))
    if args.json:
        save_json(args.json, result)


if __name__ == "__main__":
    main()
