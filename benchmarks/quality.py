"""Quality by default: the probe accuracy of the default embedding beside candidates and baselines.

For every dataset, all probed alone with the same linear probe (5 random 10/10/80 splits):

- ``learned`` rows: ``GraphEigen`` fitted with the defaults (``default``) or with one change
  (``graph-only``: no feature kNN graph; ``raw-knn``: the kNN graph of the raw features only;
  ``sage``: the GraphSAGE encoder, the default before 2026-12-05; ``exact-targets``: BASiS
  targets from the exact eigenvectors of the operator, the default before 2026-12-06; ``mlp-steps``: a
  two-layer MLP regressed by gradient steps instead of the closed-form linear encoder, the default
  until 2026-12-06); time is the whole fit (kNN
  graphs, BASiS' reference solve, training) on this machine. The default is also probed with the features appended;
- ``exact`` rows: the exact first-K eigenvectors of a candidate operator (``graph``: A alone;
  ``raw``, ``propagated``, ``both``: A plus the feature kNN graph(s), k = 10), the ceiling a
  learned embedding of that operator aims at;
- baselines: raw features, SGC (A_hat^2 X), scikit-learn's SpectralEmbedding (K columns).

    python benchmarks/quality.py --root ../shared/datasets --learned default graph-only raw-knn \
        --out benchmarks/results/quality_defaults
    python benchmarks/quality.py --root ../shared/datasets --learned default exact-targets --exact both \
        --out benchmarks/results/quality_feature_span
    python benchmarks/quality.py --root ../shared/datasets --learned default mlp-steps --exact both \
        --out benchmarks/results/quality_closed_form
    python benchmarks/quality.py --root ../shared/datasets --learned sage --exact --no-baselines \
        --out benchmarks/results/quality_sage
    python benchmarks/quality.py --root ../shared/datasets --learned --exact both --no-baselines \
        --dim 128 --out benchmarks/results/quality_exact_k128     # and K = 32, 64

Writes ``OUT.json`` and ``OUT.md`` after every dataset (the command is recorded in both).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from graph_eigen import GraphEigen, exact_eigenpairs, linear_probe, load_dataset
from graph_eigen.evaluate.baselines import feature_span_eigenmap, sgc_features, sklearn_spectral_embedding
from graph_eigen.graph.knn import with_feature_knn
from graph_eigen.io import save_json
from graph_eigen.runs.presets import DIM, FEATURE_KNN
from graph_eigen.spectral.eigsolve import solver_for

LEARNED = {"default": {}, "graph-only": {"feature_knn": 0}, "raw-knn": {"feature_knn_source": "raw"},
           "sage": {"encoder": "sage"}, "exact-targets": {"batch_operator": "global"},
           "mlp-steps": {"layers": 2, "fit": "steps"}}
EXACT = {"graph": 0, "raw": FEATURE_KNN, "propagated": FEATURE_KNN, "both": FEATURE_KNN}


def probe(emb: np.ndarray, graph, seeds: int, concat: bool = False) -> list[float]:
    res = linear_probe(np.ascontiguousarray(emb, dtype=np.float32), graph, split="random", seeds=seeds,
                       concat_features=concat)
    return [round(res["accuracy_mean"], 2), round(res["accuracy_std"], 2)]


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 1)


def evaluate_dataset(name: str, root: str, learned: list[str], exact: list[str], seeds: int, dim: int,
                     baselines: bool = True) -> dict:
    graph = load_dataset(name, root)
    out = {"dataset": graph.name, "nodes": graph.num_nodes, "edges": graph.num_edges, "dim": dim, "rows": []}

    def add(kind: str, method: str, emb: np.ndarray, seconds=None, with_features: bool = False) -> None:
        row = {"kind": kind, "method": method, "seconds": seconds, "probe": probe(emb, graph, seeds)}
        if with_features:
            row["probe_with_features"] = probe(emb, graph, seeds, concat=True)
        out["rows"].append(row)
        print(name, row, flush=True)

    for label in learned:
        est, seconds = timed(lambda: GraphEigen(dim=dim, options=LEARNED[label]).fit(graph))
        add("learned", f"{label} ({est.config_.objective} + {est.config_.encoder})", est.embedding_, seconds,
            with_features=label == "default")
    for label in exact:
        operator = with_feature_knn(graph, EXACT[label], 1.0, "raw" if label == "graph" else label)
        method = solver_for(operator.num_nodes)  # named, so that the eigensolve cache is not read: a real time
        vectors, seconds = timed(lambda: exact_eigenpairs(operator, dim, method=method).vectors)
        add("exact", f"exact eigenmap of {'A' if label == 'graph' else 'A + F (' + label + ')'}", vectors, seconds)
        if label == "both":  # the default's targets: the same operator's eigenmap on the encoder's input span
            vectors, seconds = timed(lambda: feature_span_eigenmap(operator, dim))
            add("exact", "feature-span eigenmap of A + F (both)", vectors, seconds)
    if not baselines:
        return out
    add("baseline", "raw features", graph.x.numpy())
    add("baseline", "SGC (A_hat^2 X)", sgc_features(graph))
    emb, seconds = timed(lambda: sklearn_spectral_embedding(graph, dim))
    add("baseline", "scikit-learn SpectralEmbedding", emb, seconds)
    return out


def markdown(results: list[dict], command: str) -> str:
    lines = [f"Made by `{command}` on this machine (2 CPU cores), {time.strftime('%Y-%m-%d')}. "
             "Probe: 5 random 10/10/80 splits, the embedding alone unless marked.", "",
             "| dataset | kind | method | time (s) | probe acc. % | with features % |", "|---|---|---|---|---|---|"]
    fmt = lambda v: "" if v is None else (f"{v[0]:.2f} ± {v[1]:.2f}" if isinstance(v, list) else f"{v}")
    for res in results:
        for row in res["rows"]:
            lines.append(f"| {res['dataset']} | {row['kind']} | {row['method']} | {fmt(row['seconds'])} | "
                         f"{fmt(row['probe'])} | {fmt(row.get('probe_with_features'))} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="folder of the datasets")
    parser.add_argument("--datasets", nargs="+", default=["Cora", "CiteSeer", "Photo", "CS", "DBLP"])
    parser.add_argument("--learned", nargs="*", default=list(LEARNED), choices=list(LEARNED),
                        help="GraphEigen fits to probe (none: give the option without names)")
    parser.add_argument("--exact", nargs="*", default=list(EXACT), choices=list(EXACT),
                        help="operators whose exact eigenmap to probe")
    parser.add_argument("--seeds", type=int, default=5, help="random splits per probe")
    parser.add_argument("--dim", type=int, default=DIM, help="K of every embedding")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                        help="also probe raw features, SGC and scikit-learn's SpectralEmbedding")
    parser.add_argument("--out", default="benchmarks/results/quality_defaults")
    args = parser.parse_args()
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/quality.py"] + sys.argv[1:])
    results = []
    for name in args.datasets:
        results.append(evaluate_dataset(name, args.root, args.learned, args.exact, args.seeds, args.dim,
                                        args.baselines))
        save_json(f"{args.out}.json", {"command": command, "date": time.strftime("%Y-%m-%d"), "results": results})
        Path(f"{args.out}.md").write_text(markdown(results, command))
    print(markdown(results, command))


if __name__ == "__main__":
    main()
