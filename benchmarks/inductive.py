"""New nodes embedded without a new solve, beside the classical (Nystrom) extension.

One protocol per graph: hide a random 20 % of the nodes, fit the defaults on the induced
subgraph of the rest (the old nodes), then embed the hidden (new) nodes with their edges in the
enlarged graph (``GraphEigen.transform(full, nodes=new)``; the operator's kNN graphs are searched
among all nodes). Every row is probed the same way: a linear probe fit on the labels of 10 % of
all nodes drawn from the old ones (another 10 % choose its weight decay) and scored on the new
nodes only.

Rows: the learned default (inductive); the same defaults fit on the whole graph (transductive);
a re-solve of the whole graph's feature-span eigenmap (what the default's targets are, the upper
bound of a solve); the Nystrom extension of the old graph's exact eigenvectors (psi_new =
D^-1/2 A_new,old D^-1/2 psi_old / mu over the enlarged operator); SGC and raw features. Cold
start: the same with each new node keeping one of its edges (``cold-1``) or none (``cold-0``:
features, hence kNN edges, only). Spectral columns: d_G of the new rows against the whole graph's
exact eigenvectors and against its feature-span eigenvectors, and the relative error of the new
rows after an orthogonal alignment fitted on the old rows.

    python benchmarks/inductive.py --root ../shared/datasets --datasets Cora CiteSeer Photo CS DBLP \
        --json benchmarks/results/inductive.json
    python benchmarks/inductive.py --datasets tiled:CS,nodes=1000000 --no-exact --json ...
"""
from __future__ import annotations

import argparse
import copy
import json
import shlex
import time

import numpy as np
import scipy.linalg
import torch

from graph_eigen import GraphEigen, exact_eigenpairs, linear_probe, load_dataset
from graph_eigen.evaluate.baselines import feature_span_eigenmap, sgc_features
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.core import Graph
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.io import save_json
from graph_eigen.runs.inputs import run_operator
from graph_eigen.runs.presets import DIM
from harness import environment


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def probe_split(graph: Graph, old: np.ndarray, new: np.ndarray, seed: int) -> Graph:
    """``graph`` with a split: train and valid 10 % of all nodes each, drawn from ``old``; test ``new``."""
    rng = np.random.default_rng(seed)
    drawn = rng.permutation(old)
    size = graph.num_nodes // 10
    split = {"train": drawn[:size], "valid": drawn[size:2 * size], "test": new}
    out = copy.copy(graph)
    out.split = {k: torch.from_numpy(np.sort(v)) for k, v in split.items()}
    return out


def cold_start(graph: Graph, new: np.ndarray, keep: int, seed: int) -> Graph:
    """``graph`` with each new node keeping at most ``keep`` of its edges (the first of a shuffle)."""
    src, dst = graph.edge_index.numpy()
    is_new = np.zeros(graph.num_nodes, bool)
    is_new[new] = True
    touches = is_new[src] | is_new[dst]
    kept = np.flatnonzero(~touches)
    if keep:
        rng = np.random.default_rng(seed)
        order = rng.permutation(np.flatnonzero(is_new[src]))  # one direction per new node's edges
        _, first = np.unique(src[order], return_index=True)
        kept = np.concatenate([kept, order[first]])
    edges = graph.edge_index[:, np.sort(kept)]
    return Graph.from_edges(edges, num_nodes=graph.num_nodes, x=graph.x, y=graph.y, name=graph.name)


def nystrom(operator: Graph, old: np.ndarray, new: np.ndarray, values: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The classical extension of old eigenvectors to new nodes through the enlarged kernel."""
    kernel = normalized_adjacency(operator)
    mu = 1.0 - values
    return np.asarray(kernel[new][:, old] @ vectors) / np.where(np.abs(mu) > 1e-12, mu, 1e-12)


def aligned_error(emb: np.ndarray, exact: np.ndarray, old: np.ndarray, new: np.ndarray) -> float:
    """||E_new R - U_new||^2 / ||U_new||^2 with R the orthogonal Procrustes map of E_old onto U_old
    (columns scaled to unit norm first)."""
    e = emb / np.linalg.norm(emb[old], axis=0)
    u = exact / np.linalg.norm(exact[old], axis=0)
    rotation, _ = scipy.linalg.orthogonal_procrustes(e[old], u[old])
    return float(np.linalg.norm(e[new] @ rotation - u[new]) ** 2 / np.linalg.norm(u[new]) ** 2)


def run_graph_protocol(name: str, root: str, seed: int, exact: bool, options: dict) -> dict:
    full = load_dataset(name, root)
    rng = np.random.default_rng(seed)
    new = np.sort(rng.permutation(full.num_nodes)[: full.num_nodes // 5])
    old = np.setdiff1d(np.arange(full.num_nodes), new)
    probed = probe_split(full, old, new, seed)

    def probe(rows_old: np.ndarray, rows_new: np.ndarray) -> float:
        emb = np.zeros((full.num_nodes, rows_new.shape[1]), np.float32)
        emb[old], emb[new] = rows_old, rows_new
        return round(linear_probe(emb, probed, split="official")["accuracy_mean"], 2)

    out: dict = {"dataset": name, "nodes": full.num_nodes, "new_nodes": int(new.size), "rows": {}}
    model, out["fit_seconds"] = timed(lambda: GraphEigen(seed=seed, options=options).fit(full.subgraph(old)))
    cfg = model.config_
    operator, operator_seconds = timed(lambda: run_operator(cfg, full))
    targets, span_seconds = timed(lambda: feature_span_eigenmap(operator, DIM, seed=seed))
    out["resolve_seconds"] = round(operator_seconds + span_seconds, 1)
    reference = {"feature_span": targets}
    if exact:
        reference["exact"] = exact_eigenpairs(operator, DIM).vectors
        old_pairs = exact_eigenpairs(run_operator(cfg, full.subgraph(old)), DIM)

    def spectral(emb_new: np.ndarray) -> dict:
        emb = np.zeros((full.num_nodes, emb_new.shape[1]), np.float32)
        emb[old], emb[new] = model.embedding_, emb_new
        return {f"d_G_{key}": round(subspace_distance(emb_new, ref[new]), 3) for key, ref in reference.items()} | \
               {f"aligned_error_{key}": round(aligned_error(emb, ref, old, new), 3) for key, ref in reference.items()}

    _, setup = timed(lambda: model.prepare_incremental(full, new))  # the old nodes' state, built once
    out["incremental_setup_seconds"] = round(setup, 1)
    for label, graph in (("edges", full), ("cold-1", cold_start(full, new, 1, seed)), ("cold-0", cold_start(full, new, 0, seed))):
        rows, seconds = timed(lambda: model.transform(graph, nodes=new))
        row = {"probe": probe(model.embedding_, rows), "seconds": round(seconds, 2),
               "new_nodes_per_second": round(new.size / seconds), **spectral(rows)}
        fast, seconds = timed(lambda: model.transform(graph, nodes=new, incremental=True))
        row["incremental"] = {"probe": probe(model.embedding_, fast), "seconds": round(seconds, 3),
                              "new_nodes_per_second": round(new.size / seconds),
                              "relative_difference_to_full": round(float(np.linalg.norm(fast - rows) / np.linalg.norm(rows)), 4),
                              **spectral(fast)}
        if exact:
            enlarged = operator if graph is full else run_operator(cfg, graph)  # built above for `full`
            row["nystrom_probe"] = probe(old_pairs.vectors, nystrom(enlarged, old, new, old_pairs.values,
                                                                   old_pairs.vectors))
        out["rows"][label] = row
        print(name, label, row, flush=True)
    transductive, seconds = timed(lambda: GraphEigen(seed=seed, options=options).fit(full))
    out["transductive"] = {"probe": probe(transductive.embedding_[old], transductive.embedding_[new]),
                           "fit_seconds": round(seconds, 1)}
    out["resolve"] = {"probe": probe(targets[old], targets[new])}
    sgc = sgc_features(full)
    out["sgc"] = {"probe": probe(sgc[old], sgc[new])}
    out["raw_features"] = {"probe": probe(full.x.numpy()[old], full.x.numpy()[new])}
    print(name, {k: out[k] for k in ("transductive", "resolve", "sgc", "raw_features")}, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/datasets", help="datasets folder (default %(default)s)")
    parser.add_argument("--datasets", nargs="+", default=["Cora", "CiteSeer", "Photo", "CS", "DBLP"])
    parser.add_argument("--seed", type=int, default=0, help="which 20 %% is hidden, and the probe's draw")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact solves (d_G against them, Nystrom)")
    parser.add_argument("--json", default=None, help="write the results here after every graph")
    parser.add_argument("--options", default="{}", help="JSON of GraphEigen options, e.g. '{\"layers\": 2, \"fit\": \"steps\"}'")
    args = parser.parse_args()
    results = []
    for name in args.datasets:
        results.append(run_graph_protocol(name, args.root, args.seed, not args.no_exact, json.loads(args.options)))
        if args.json:
            save_json(args.json, {"command": "python benchmarks/inductive.py " + " ".join(
                ["--datasets", *args.datasets] + (["--seed", str(args.seed)] if args.seed else [])
                + (["--no-exact"] if args.no_exact else [])
                + (["--options", shlex.quote(args.options)] if args.options != "{}" else [])),
                "environment": environment(), "results": results})


if __name__ == "__main__":
    main()
