"""The papers' own per-batch mechanisms beside the default, after the same wall time.

On one graph (default: Coauthor CS tiled to about a million nodes) and the default's operator
(the graph plus the feature kNN graphs), each method trains the ``sign`` encoder (two layers,
by steps) for a wall-clock budget equal to the default's fit time on that operator (the
propagation, the feature-span solve and the closed-form encoder), then for ``--longer`` times
that budget; after each budget its embedding is exported and judged the same way: d_G (of K)
against the default's targets (the feature-span eigenmap) and, with ``--exact``, against the
exact eigenvectors of the operator, and a linear probe (one random 10/10/80 split).

Methods: BASiS with the ``sampled`` batch operator (the batch's own kernel) and with ``knn``
(a kNN graph over the batch's features, BASiS's setting), and NeuralEF (the ``sign`` encoder as in
``presets.neuralef_sign_config``) with the ``batch`` and ``running`` estimators.

    python benchmarks/per_batch.py --dataset tiled:CS,nodes=250000 --json benchmarks/results/per_batch_250000.json
    python benchmarks/per_batch.py --dataset tiled:CS,nodes=1000000 --json benchmarks/results/per_batch_1000000.json
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

from graph_eigen import exact_eigenpairs, linear_probe, load_dataset, subspace_distance
from graph_eigen.evaluate.baselines import sgc_features
from graph_eigen.io import save_json
from graph_eigen.runs.inputs import run_operator
from graph_eigen.runs.presets import default_config, neuralef_sign_config
from graph_eigen.training.loop import TrainLoop
from harness import environment


def methods(base) -> dict:
    """The per-batch configurations, on the default's operator and encoder input."""
    steps = replace(base, layers=2, fit="steps")
    neuralef = replace(neuralef_sign_config(base.dataset), dim=base.dim, input_dim=base.input_dim,
                       feature_knn=base.feature_knn, feature_knn_source=base.feature_knn_source,
                       batch_size=base.batch_size, epochs=1000, power=None)
    return {"basis_sampled": replace(steps, batch_operator="sampled", epochs=1000),
            "basis_knn": replace(steps, batch_operator="knn", epochs=1000),
            "neuralef_batch": replace(neuralef, estimator="batch"),
            "neuralef_running": replace(neuralef, estimator="running")}


def train_for(cfg, operator, budgets: list[float], judge) -> list[dict]:
    """Build and run a loop, judging its embedding each time the wall clock passes a budget
    (the judging is not counted)."""
    results, spent, start = [], 0.0, time.perf_counter()
    loop = TrainLoop.build(cfg, operator)
    steps = loop.steps()
    for budget in budgets:
        for _ in steps:
            if spent + time.perf_counter() - start >= budget:
                break
        spent += time.perf_counter() - start
        results.append({"budget_seconds": round(budget, 1), "steps": loop.step, **judge(loop.model.embed(operator))})
        start = time.perf_counter()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="tiled:CS,nodes=1000000")
    parser.add_argument("--root", default="../shared/datasets")
    parser.add_argument("--longer", type=float, default=4.0, help="the second budget, in default fit times")
    parser.add_argument("--exact", action="store_true", help="also d_G against the exact eigenvectors")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    graph = load_dataset(args.dataset, args.root)
    base = default_config(args.dataset, graph.num_nodes)
    operator = run_operator(base, graph)
    start = time.perf_counter()
    loop = TrainLoop.build(base, operator)  # the default: closed form, no step
    default_seconds = time.perf_counter() - start
    targets = loop.model.embed(operator)
    references = {"feature_span": targets}
    if args.exact:
        references["exact"] = exact_eigenpairs(operator, base.dim).vectors

    def judge(embedding) -> dict:
        probe = linear_probe(embedding, graph, split="random", seeds=1)
        return {"probe": round(probe["accuracy_mean"], 2),
                **{f"d_G_{name}": round(subspace_distance(embedding, ref), 3) for name, ref in references.items()}}

    out = {"command": "python benchmarks/per_batch.py " + " ".join(
               ["--dataset", args.dataset, "--longer", str(args.longer)] + (["--exact"] if args.exact else [])),
           "dataset": args.dataset, "nodes": graph.num_nodes, "dim": base.dim,
           "default": {"seconds": round(default_seconds, 1), **judge(targets)},
           "sgc": {"probe": round(linear_probe(sgc_features(graph), graph, split="random", seeds=1)["accuracy_mean"], 2)},
           "methods": {}, "environment": environment()}
    print(json.dumps({k: out[k] for k in ("nodes", "default", "sgc")}), flush=True)
    for name, cfg in methods(base).items():
        out["methods"][name] = train_for(cfg, operator, [default_seconds, args.longer * default_seconds], judge)
        print(name, json.dumps(out["methods"][name]), flush=True)
        if args.json:
            save_json(args.json, out)


if __name__ == "__main__":
    main()
