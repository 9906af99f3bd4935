"""Spectral quality table (named quality.py until 2026-12-05): spectral accuracy and linear-probe accuracy of each objective/encoder, beside baselines.

For every dataset: the exact eigsh eigenmap (with its time), scikit-learn's SpectralEmbedding
(with its time), raw features, features + exact eigenmap, a randomly initialized encoder; then
for every ``objective:encoder`` run: training time, d_G and d_perp to the exact eigenvectors,
linear-probe accuracy of the embedding alone and concatenated with the features.

    python benchmarks/spectral_quality.py --root ../shared/datasets --datasets Photo CS \
        --runs neuralef:sage basis:sage --epochs 5 --out benchmarks/results/spectral_quality

Writes ``OUT.json`` and ``OUT.md`` (the command is recorded in both).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from graph_eigen.data import load_dataset
from graph_eigen.evaluate.baselines import random_encoder_embedding
from graph_eigen.evaluate.probe import linear_probe
from graph_eigen.evaluate.spectral import orthogonality, subspace_distance
from graph_eigen.io import save_json
from graph_eigen.runs.presets import recommended_config
from graph_eigen.runs.recorder import train
from graph_eigen.spectral.eigsolve import exact_eigenpairs

# K at a wide eigengap of the normalized adjacency (docs/algorithms.md, "Eigengaps"): evaluate there.
SPECTRAL_K = {"CS": 9, "Photo": 10, "Cora": 9}


def probe(emb, graph, seeds, concat=False) -> float:
    res = linear_probe(emb, graph, split="random", seeds=seeds, concat_features=concat)
    return round(res["accuracy_mean"], 2), round(res["accuracy_std"], 2)


def sklearn_spectral(graph, k: int) -> tuple[np.ndarray, float]:
    from sklearn.manifold import SpectralEmbedding

    start = time.perf_counter()
    emb = SpectralEmbedding(n_components=k, affinity="precomputed", random_state=0,
                            eigen_solver="arpack").fit_transform(graph.adjacency())
    return emb, time.perf_counter() - start


def evaluate_dataset(name: str, root: str | None, runs: list[str], epochs: int, seeds: int,
                     probe_dim: int, run_dir: Path) -> dict:
    graph = load_dataset(name, root)
    k = SPECTRAL_K.get(graph.name, 10)
    out = {"dataset": graph.name, "nodes": graph.num_nodes, "edges": graph.num_edges, "k_spectral": k,
           "probe_dim": probe_dim, "rows": []}
    start = time.perf_counter()
    exact_k = exact_eigenpairs(graph, k).vectors
    exact_probe = exact_eigenpairs(graph, probe_dim).vectors
    eigsh_seconds = time.perf_counter() - start
    has_labels = graph.y is not None and graph.num_classes > 1
    row = {"method": f"exact eigsh (K={k} and {probe_dim})", "seconds": round(eigsh_seconds, 2), "d_G": 0.0}
    if has_labels:
        row["probe"] = probe(exact_probe, graph, seeds)
        if graph.x is not None:
            row["probe_with_features"] = probe(exact_probe, graph, seeds, concat=True)
    out["rows"].append(row)
    sk, sk_seconds = sklearn_spectral(graph, k)
    out["rows"].append({"method": f"sklearn SpectralEmbedding (K={k})", "seconds": round(sk_seconds, 2),
                        "d_G": round(subspace_distance(sk, exact_k), 4)})
    if graph.x is not None and has_labels:
        out["rows"].append({"method": "raw features", "probe": probe(graph.x.numpy(), graph, seeds)})
    for spec in runs:
        objective, encoder = spec.split(":")
        if encoder != "table" and graph.x is None:
            continue
        for dim in sorted({k, probe_dim}):
            cfg = recommended_config(graph.name)
            cfg.root, cfg.objective, cfg.encoder, cfg.dim, cfg.epochs = root, objective, encoder, dim, epochs
            folder = run_dir / f"{graph.name}_{objective}_{encoder}_{dim}"
            t0 = time.perf_counter()
            model = train(cfg, graph, folder, overwrite=True, progress=False)
            seconds = time.perf_counter() - t0
            emb = model.embed(graph)
            row = {"method": f"{objective} + {encoder} (K={dim}, {epochs} epochs)", "seconds": round(seconds, 1)}
            if dim == k:
                row.update(d_G=round(subspace_distance(emb, exact_k), 4), d_perp=round(orthogonality(emb), 4))
            if dim == probe_dim and has_labels:
                row["probe"] = probe(emb, graph, seeds)
                if graph.x is not None:
                    row["probe_with_features"] = probe(emb, graph, seeds, concat=True)
                if encoder != "table":
                    rand = random_encoder_embedding(graph, cfg)
                    out["rows"].append({"method": f"random {encoder} (untrained, K={dim})",
                                        "probe": probe(rand, graph, seeds),
                                        "probe_with_features": probe(rand, graph, seeds, concat=True)})
            out["rows"].append(row)
    return out


def markdown(results: list[dict], command: str) -> str:
    lines = [f"Made by `{command}` on this machine (2 CPU cores).", "",
             "| dataset | method | time (s) | d_G | d_perp | probe acc. % | probe acc. with features % |",
             "|---|---|---|---|---|---|---|"]
    fmt = lambda v: "" if v is None else (f"{v[0]:.2f} ± {v[1]:.2f}" if isinstance(v, (list, tuple)) else f"{v}")
    for res in results:
        for row in res["rows"]:
            lines.append(f"| {res['dataset']} | {row['method']} | {fmt(row.get('seconds'))} | {fmt(row.get('d_G'))} | "
                         f"{fmt(row.get('d_perp'))} | {fmt(row.get('probe'))} | {fmt(row.get('probe_with_features'))} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["Cora", "CiteSeer", "Photo", "CS", "DBLP", "mnist-knn"])
    p.add_argument("--dataset", action="append", default=[], help="extra dataset name (with --root)")
    p.add_argument("--root", default=os.environ.get("GRAPH_EIGEN_DATA"))
    p.add_argument("--runs", nargs="+", default=["neuralef:sage", "basis:sage"])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--probe-dim", type=int, default=64)
    p.add_argument("--out", default="benchmarks/results/spectral_quality")
    p.add_argument("--run-dir", default="runs/quality")
    args = p.parse_args()
    command = "python " + " ".join(sys.argv)
    results = []
    for name in args.datasets + args.dataset:
        print(f"== {name}", flush=True)
        results.append(evaluate_dataset(name, args.root, args.runs, args.epochs, args.seeds, args.probe_dim,
                                        Path(args.run_dir)))
        save_json(f"{args.out}.json", {"command": command, "results": results})
        Path(f"{args.out}.md").write_text(markdown(results, command))
    print(markdown(results, command))


if __name__ == "__main__":
    main()
