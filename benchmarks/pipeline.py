"""The user's whole job on one dataset: load, operator (feature kNN graphs), train with the
defaults, export, linear probe; then the baselines through the same probe.

Baselines: raw features, SGC's propagated features (A_hat^2 X), the feature-span eigenmap that
the default's targets are (one Rayleigh-Ritz solve, no training), and the exact eigenmap of the
default's own operator (Chebyshev subspace iteration; ``--no-exact`` skips it), with d_G of the
learned embedding against both and the eigengap. Random 10/10/80 splits, or the official split
and ogb's Evaluator for ``ogbn-*``.

    python benchmarks/pipeline.py --dataset tiled:CS --nodes 2449029 --json benchmarks/results/pipeline_tiled_2449029.json
    python benchmarks/pipeline.py --dataset tiled:CS,noise=1.0 --nodes 1000000 --json ...
    python benchmarks/pipeline.py --dataset sbm:preset=products     # speed only: its probe saturates
    python benchmarks/pipeline.py --dataset ogbn-products --root DIR

``--json PATH`` writes ``nodes``, ``total_seconds`` (the job: load to probe), ``stages`` (name ->
seconds, baselines included), ``peak_rss_gib`` (during the job), ``probe_accuracy``,
``baselines`` and the configuration.
"""
from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from graph_eigen.data import load_dataset
from graph_eigen.device import resolve_device
from graph_eigen.evaluate.baselines import sgc_features
from graph_eigen.evaluate.probe import linear_probe
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.io import save_json
from graph_eigen.runs.inputs import run_operator
from graph_eigen.runs.presets import recommended_config
from graph_eigen.runs.recorder import train
from graph_eigen.spectral.eigsolve import exact_eigenpairs
from harness import environment, peak_rss_gib


class Stages:
    """Times named stages and logs each with the peak memory so far."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn):
        start = time.perf_counter()
        out = fn()
        self.seconds[name] = round(time.perf_counter() - start, 2)
        logging.info("stage %s: %.1f s (peak RSS %.2f GiB)", name, self.seconds[name], peak_rss_gib())
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="tiled:CS", help="registry name (default: %(default)s)")
    parser.add_argument("--root", default="../shared/datasets", help="dataset folder (default: %(default)s)")
    parser.add_argument("--nodes", type=int, default=None, help="size of an sbm: or tiled: dataset")
    parser.add_argument("--seeds", type=int, default=1, help="random probe splits (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=None, help="override the default number of epochs")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact eigenmap baseline")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default %(default)s)")
    parser.add_argument("--out", default=None, help="run folder (default: a temporary folder)")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    dataset = args.dataset
    if args.nodes is not None:
        if not dataset.startswith(("sbm:", "tiled:")):
            parser.error("--nodes applies to sbm: and tiled: datasets only")
        dataset = f"{dataset},n={args.nodes}" if dataset.startswith("sbm:") else f"{dataset},nodes={args.nodes}"
    stage = Stages()
    started = time.perf_counter()
    graph = stage("load", lambda: load_dataset(dataset, args.root))
    cfg = recommended_config(dataset, graph.num_nodes, has_features=graph.x is not None)
    cfg.root, cfg.device = args.root, args.device
    if args.epochs:
        cfg.epochs = args.epochs
    device = resolve_device(args.device)
    split = "official" if graph.split is not None else "random"
    seeds = 1 if split == "official" else args.seeds

    def probe(embedding) -> dict:
        res = linear_probe(embedding, graph, split=split, seeds=seeds, device=str(device))
        return {"accuracy_mean": round(res["accuracy_mean"], 2), "accuracy_std": round(res["accuracy_std"] or 0, 2),
                "seconds": round(res["seconds"], 1)}

    operator = stage("operator", lambda: run_operator(cfg, graph))
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.out) if args.out else Path(tmp) / "run"
        model = stage("train", lambda: train(cfg, operator, run, overwrite=True, progress=True))
        embedding = stage("export", lambda: model.embed(operator))
    learned = stage("probe", lambda: probe(embedding))
    job_seconds, job_peak = time.perf_counter() - started, peak_rss_gib()

    baselines: dict[str, dict] = {}
    if graph.x is not None:
        baselines["raw_features"] = stage("baseline raw_features", lambda: probe(graph.x.numpy()))
        sgc = stage("sgc features", lambda: sgc_features(graph))
        baselines["sgc"] = {**stage("baseline sgc", lambda: probe(sgc)), "features_seconds": stage.seconds["sgc features"]}
        del sgc
    targets = model.objective.whole_graph_solve(model.encoder.prepare(operator)) \
        if cfg.objective == "basis" and cfg.batch_operator == "feature_span" else None
    if targets is not None:  # what the default regresses onto: the solve alone, no training
        baselines["feature_span_eigenmap"] = {**stage("baseline feature_span", lambda: probe(targets[1])),
                                              "d_G_learned": round(subspace_distance(embedding, targets[1]), 3)}
    if not args.no_exact:
        pairs = stage("exact solve", lambda: exact_eigenpairs(operator, cfg.dim + 1, method="auto"))
        vectors = pairs.vectors[:, :cfg.dim].astype(np.float32)
        gap = float(pairs.values[cfg.dim] - pairs.values[cfg.dim - 1])
        baselines["exact_eigenmap_of_operator"] = {
            **stage("baseline exact", lambda: probe(vectors)), "solve_seconds": stage.seconds["exact solve"],
            "method": pairs.method, "eigenvalues_first_last": [float(pairs.values[0]), float(pairs.values[cfg.dim - 1])],
            "eigengap_K": gap, "d_G_learned": round(subspace_distance(embedding, vectors), 3)}

    result = {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "dataset": dataset, "nodes": graph.num_nodes, "edges": graph.num_edges,
        "operator_edges": operator.num_edges,
        "total_seconds": round(job_seconds, 1), "stages": stage.seconds,
        "peak_rss_gib": round(job_peak, 2), "peak_rss_gib_with_baselines": round(peak_rss_gib(), 2),
        "probe_accuracy": learned["accuracy_mean"], "probe": learned, "probe_split": split,
        "baselines": baselines, "device": str(device), "config": cfg.to_dict(), "environment": environment(),
    }
    print(json.dumps({k: result[k] for k in ("nodes", "total_seconds", "stages", "peak_rss_gib",
                                             "probe_accuracy", "baselines")}, indent=1))
    if args.json:
        save_json(args.json, result)


if __name__ == "__main__":
    main()
