"""What a fit costs beside the exact solve of the same operator: time and peak memory.

Three ways to an embedding of one graph, each in a fresh process (its peak resident memory is
its own), each from the loaded graph to the n x K rows: the default fit (``GraphEigen().fit``:
the attributed operator with its kNN graphs, the encoder's propagation, the feature-span solve and
the closed-form linear encoder); the same regression by gradient steps with a two-layer MLP (the
default before 2026-12-06); and the exact eigenmap of the same operator (the operator, kNN graphs
included, and the K = 48 eigenvectors by the default solver). Every embedding is probed alike
(5 random 10/10/80 splits), outside the timed part.

    python benchmarks/fit_cost.py --datasets Cora CiteSeer Photo CS DBLP --json benchmarks/results/fit_cost.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

WAYS = ("default", "mlp_steps", "exact")


def child(way: str, dataset: str, root: str) -> dict:
    """One way, in this process: seconds and peak memory of the fit, then the probe."""
    from graph_eigen import GraphEigen, exact_eigenpairs, linear_probe, load_dataset
    from harness import peak_rss_gib
    from graph_eigen.runs.inputs import run_operator
    from graph_eigen.runs.presets import DIM, default_config

    graph = load_dataset(dataset, root)
    loaded_gib = peak_rss_gib()
    start = time.perf_counter()
    if way == "exact":
        cfg = default_config(dataset, graph.num_nodes)
        embedding = exact_eigenpairs(run_operator(cfg, graph), DIM).vectors
    else:
        options = {} if way == "default" else {"layers": 2, "fit": "steps"}
        embedding = GraphEigen(seed=0, options=options).fit(graph).embedding_
    seconds = time.perf_counter() - start
    peak = peak_rss_gib()
    probe = linear_probe(embedding, graph, seeds=5)
    return {"way": way, "seconds": round(seconds, 2), "peak_rss_gib": round(peak, 2),
            "loaded_rss_gib": round(loaded_gib, 2), "probe": round(probe["accuracy_mean"], 2),
            "probe_std": round(probe["accuracy_std"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/datasets")
    parser.add_argument("--datasets", nargs="+", default=["CS"])
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", nargs=2, metavar=("WAY", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.root)))
        return
    from graph_eigen.io import save_json
    from harness import environment

    results = []
    for dataset in args.datasets:
        row = {"dataset": dataset}
        for way in WAYS:
            out = subprocess.run([sys.executable, __file__, "--root", args.root, "--child", way, dataset],
                                 capture_output=True, text=True, check=True)
            row[way] = json.loads(out.stdout.strip().splitlines()[-1])
        row["default_over_exact"] = round(row["default"]["seconds"] / row["exact"]["seconds"], 2)
        row["mlp_steps_over_exact"] = round(row["mlp_steps"]["seconds"] / row["exact"]["seconds"], 2)
        print(json.dumps(row), flush=True)
        results.append(row)
        if args.json:
            save_json(args.json, {"command": "python benchmarks/fit_cost.py --datasets " + " ".join(args.datasets),
                                  "environment": environment(), "results": results})


if __name__ == "__main__":
    main()
