"""How many SVD dimensions the feature kNN search needs: its time and the probe of the exact eigenmap.

For each width D (0 = the full features), the default attributed operator A + F(X) + F(A_hat^2 X)
(k = 10) is built with the search in the top D singular directions, then its exact first K
eigenvectors are probed alone (5 random 10/10/80 splits). Single-threaded, so the times compare.

    python benchmarks/knn_dims.py --root ../shared/datasets --dataset DBLP --dims 128 256 512 0 \
        --json benchmarks/results/knn_dims_DBLP.json
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from graph_eigen import Graph, exact_eigenpairs, linear_probe, load_dataset
from graph_eigen.graph.knn import PROPAGATION_HOPS, knn_adjacency
from graph_eigen.graph.propagation import propagate
from graph_eigen.runs.presets import DIM, FEATURE_KNN


def measure(graph: Graph, dims: int, k: int, dim: int, seeds: int) -> dict:
    start = time.perf_counter()
    smoothed = propagate(graph, graph.x, PROPAGATION_HOPS)[-1].numpy()
    operator = (graph.adjacency() + knn_adjacency(graph.x.numpy(), k, dims=dims)
                + knn_adjacency(smoothed, k, dims=dims)).tocoo()
    seconds = time.perf_counter() - start
    weighted = Graph.from_edges(np.vstack([operator.row, operator.col]), num_nodes=graph.num_nodes, x=graph.x,
                                y=graph.y, edge_weight=operator.data, name=graph.name)
    vectors = exact_eigenpairs(weighted, dim, method="eigsh").vectors.astype(np.float32)
    res = linear_probe(vectors, graph, split="random", seeds=seeds)
    return {"dims": dims, "knn_seconds": round(seconds, 1), "probe": [round(res["accuracy_mean"], 2),
                                                                     round(res["accuracy_std"], 2)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="folder of the datasets")
    parser.add_argument("--dataset", default="DBLP")
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 256, 512, 0], help="0: the full features")
    parser.add_argument("--k", type=int, default=FEATURE_KNN, help="neighbors per node")
    parser.add_argument("--dim", type=int, default=DIM, help="K of the eigenmap")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    threadpool_limits(1)  # BLAS and OpenMP (faiss) on one thread too
    graph = load_dataset(args.dataset, args.root)
    out = {"command": "python " + " ".join(shlex.quote(a) for a in ["benchmarks/knn_dims.py"] + sys.argv[1:]),
           "date": time.strftime("%Y-%m-%d"), "dataset": graph.name, "features": graph.num_features, "rows": []}
    for dims in args.dims:
        out["rows"].append(measure(graph, dims, args.k, args.dim, args.seeds))
        print(json.dumps(out["rows"][-1]), flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
