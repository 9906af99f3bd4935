"""NeuralEF targets estimator: the power and Chebyshev filters compared with exact fits.

A table that copies its targets turns the estimator into subspace iteration, so the d_G after
each refresh shows what a filter achieves per product, free of any encoder's fitting error.
On CS, K = 9 (the first wide eigengap). Usage:

    python benchmarks/targets_filters.py [DATA_ROOT]    # -> benchmarks/results/targets_filters.{md,json}
"""
import json
import sys
import time
from pathlib import Path

from graph_eigen.data import load_dataset
from graph_eigen.eigsolve import exact_eigenpairs
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.objectives import build_objective
from graph_eigen.sampling import BatchSampler

FILTERS = [("power", 64), ("power", 256), ("chebyshev", 16), ("chebyshev", 32), ("chebyshev", 64)]
REFRESHES = 8
K = 9


def main(root: str) -> None:
    graph = load_dataset("CS", root)
    exact = exact_eigenpairs(graph, K).vectors
    rows = []
    for name, products in FILTERS:
        objective = build_objective("neuralef", K, estimator="targets", power=products, filter=name, target_every=1)
        objective.setup(graph, BatchSampler(graph, 0, [-1], with_features=False))
        distances, start = [], time.perf_counter()
        for _ in range(REFRESHES):
            objective.refresh_targets()
            objective.bank.copy_(objective.targets)  # the exact fit
            distances.append(subspace_distance(objective.bank.numpy(), exact))
        rows.append({"filter": name, "products": products, "d_G": distances,
                     "seconds_per_refresh": (time.perf_counter() - start) / REFRESHES})
        print(name, products, " ".join(f"{d:.4g}" for d in distances), flush=True)
    out = Path("benchmarks/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "targets_filters.json").write_text(json.dumps(rows, indent=1))
    lines = ["# Targets estimator filters, exact fits (CS, K = 9)", "",
             "Command: `python benchmarks/targets_filters.py`", "",
             "| filter | products per refresh | d_G after refreshes 1.." + str(REFRESHES) + " | s per refresh |",
             "|---|---|---|---|"]
    lines += [f"| {r['filter']} | {r['products']} | {', '.join(f'{d:.2g}' for d in r['d_G'])} | "
              f"{r['seconds_per_refresh']:.2f} |" for r in rows]
    (out / "targets_filters.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets")
