"""NeuralEF targets estimator: the power and Chebyshev filters compared with exact fits.

A table that copies its targets turns the estimator into subspace iteration, so the d_G after
each refresh shows what a filter achieves per product, free of any encoder's fitting error.
On CS, K = 9 (the first wide eigengap). ``benchmarks/results/targets_filters.{md,json}`` came from

    python benchmarks/targets_filters.py --root ../shared/datasets
"""
import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from graph_eigen.data import load_dataset
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives import build_objective
from graph_eigen.spectral.eigsolve import exact_eigenpairs

FILTERS = [("power", 64), ("power", 256), ("chebyshev", 16), ("chebyshev", 32), ("chebyshev", 64)]
REFRESHES = 8
K = 9


def main(root: str, out: Path, command: str, dataset: str = "CS", refreshes: int = REFRESHES) -> None:
    graph = load_dataset(dataset, root)
    exact = exact_eigenpairs(graph, K).vectors
    rows = []
    for name, products in FILTERS:
        objective = build_objective("neuralef", K, estimator="targets", power=products, filter=name, target_every=1)
        objective.setup(graph, BatchSampler(graph, 0, [-1], with_features=False))
        distances, start = [], time.perf_counter()
        for _ in range(refreshes):
            objective.refresh_targets()
            objective.bank.copy_(objective.targets)  # the exact fit
            distances.append(subspace_distance(objective.bank.numpy(), exact))
        rows.append({"filter": name, "products": products, "d_G": distances,
                     "seconds_per_refresh": (time.perf_counter() - start) / refreshes})
        print(name, products, " ".join(f"{d:.4g}" for d in distances), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "targets_filters.json").write_text(json.dumps(rows, indent=1))
    lines = [f"# Targets estimator filters, exact fits ({dataset}, K = {K})", "",
             f"Command: `{command}`", "",
             "| filter | products per refresh | d_G after refreshes 1.." + str(refreshes) + " | s per refresh |",
             "|---|---|---|---|"]
    lines += [f"| {r['filter']} | {r['products']} | {', '.join(f'{d:.2g}' for d in r['d_G'])} | "
              f"{r['seconds_per_refresh']:.2f} |" for r in rows]
    (out / "targets_filters.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/datasets", help="the datasets folder (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"),
                        help="folder of targets_filters.json and .md (default %(default)s)")
    parser.add_argument("--dataset", default="CS", help="registry name (default %(default)s)")
    parser.add_argument("--refreshes", type=int, default=REFRESHES, help="refreshes per filter (default %(default)s)")
    args = parser.parse_args()
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/targets_filters.py"] + sys.argv[1:])
    main(args.root, args.out, command, args.dataset, args.refreshes)
