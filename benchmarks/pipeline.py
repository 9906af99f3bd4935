"""The user's whole job on one dataset: load, train with the defaults, export, linear probe.

Beside the learned embedding the same probe scores the raw features, SGC's propagated features
(A_hat^2 X) and the untrained encoder of the run's configuration. SBM graphs are probed on
random 10/10/80 splits, ``ogbn-*`` datasets on their official split with ogb's Evaluator.

    python benchmarks/pipeline.py                                  # sbm:preset=products (2,449,029 nodes)
    python benchmarks/pipeline.py --json benchmarks/results/pipeline_2449029.json   # the results file
    python benchmarks/pipeline.py --nodes 1000000 --json benchmarks/results/pipeline_1000000.json
    python benchmarks/pipeline.py --dataset ogbn-products --root DIR

``--json PATH`` writes ``nodes``, ``total_seconds``, ``stages`` (name -> seconds),
``peak_rss_gib``, ``probe_accuracy``, ``baselines`` and ``device`` (with the command and the
configuration used).
"""
from __future__ import annotations

import argparse
import json
import logging
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from graph_eigen.data import load_dataset
from graph_eigen.device import resolve_device
from graph_eigen.embed import export_embeddings
from graph_eigen.evaluate.baselines import random_encoder_embedding, sgc_features
from graph_eigen.evaluate.probe import linear_probe
from graph_eigen.io import save_json
from graph_eigen.measure import peak_rss_gib
from graph_eigen.presets import recommended_config
from graph_eigen.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="sbm:preset=products", help="registry name (default: %(default)s)")
    parser.add_argument("--root", default=None, help="dataset folder (ogbn-*, PyG datasets)")
    parser.add_argument("--nodes", type=int, default=None, help="an SBM of the products family with this many nodes")
    parser.add_argument("--seeds", type=int, default=1, help="random probe splits (SBM; default %(default)s)")
    parser.add_argument("--epochs", type=int, default=None, help="override the default number of epochs")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default %(default)s)")
    parser.add_argument("--out", default=None, help="run folder (default: a temporary folder)")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    dataset = args.dataset
    if args.nodes is not None:
        if not dataset.startswith("sbm:"):
            parser.error("--nodes applies to sbm: datasets only")
        dataset = f"{dataset},n={args.nodes}"
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def stage(name: str, fn):
        t = time.perf_counter()
        out = fn()
        stages[name] = round(time.perf_counter() - t, 2)
        logging.info("stage %s: %.1f s (peak RSS %.2f GiB)", name, stages[name], peak_rss_gib())
        return out

    graph = stage("load", lambda: load_dataset(dataset, args.root))
    cfg = recommended_config(dataset, graph.num_nodes)
    cfg.root, cfg.device = args.root, args.device
    if args.epochs:
        cfg.epochs = args.epochs
    device = resolve_device(args.device)
    split = "official" if graph.split is not None else "random"
    seeds = 1 if split == "official" else args.seeds

    def probe(embedding) -> dict:
        res = linear_probe(embedding, graph, split=split, seeds=seeds, device=str(device))
        return {"accuracy_mean": round(res["accuracy_mean"], 2), "accuracy_std": round(res["accuracy_std"], 2),
                "seconds": round(res["seconds"], 1)}

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.out) if args.out else Path(tmp) / "run"
        model = stage("train", lambda: train(cfg, graph, run, overwrite=True, progress=True))
        stage("export", lambda: export_embeddings(model, graph, run / "embeddings.npy", run_dir=run))
        embedding = np.load(run / "embeddings.npy", mmap_mode="r")
        learned = stage("probe", lambda: probe(embedding))
        pipeline_seconds = time.perf_counter() - started
        pipeline_peak = peak_rss_gib()
        baselines = {}
        if graph.x is not None:
            baselines["raw_features"] = stage("baseline raw_features", lambda: probe(graph.x.numpy()))
            baselines["sgc"] = stage("baseline sgc", lambda: probe(sgc_features(graph)))
            baselines["untrained_encoder"] = stage(
                "baseline untrained_encoder", lambda: probe(random_encoder_embedding(graph, cfg)))

    result = {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "dataset": dataset,
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "total_seconds": round(pipeline_seconds, 1),
        "stages": stages,
        "peak_rss_gib": round(pipeline_peak, 2),
        "peak_rss_gib_with_baselines": round(peak_rss_gib(), 2),
        "probe_accuracy": learned["accuracy_mean"],
        "probe": learned,
        "probe_split": split,
        "baselines": baselines,
        "device": str(device),
        "config": cfg.to_dict(),
        "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(),
                        "machine": platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S")},
    }
    print(json.dumps({k: result[k] for k in ("nodes", "total_seconds", "stages", "peak_rss_gib",
                                             "probe_accuracy", "baselines", "device")}, indent=1))
    if args.json:
        save_json(args.json, result)


if __name__ == "__main__":
    main()
