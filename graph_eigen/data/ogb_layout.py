"""Write a Graph in OGB's on-disk layout for node property prediction.

This lets the OGB loading path (``load_ogb``) run offline on a real graph (e.g. Photo or Cora)
dressed up as ``ogbn-products``. The layout follows ``ogb/io/read_graph_raw.py``,
``ogb/nodeproppred/dataset_pyg.py`` and ``ogb/nodeproppred/master.csv`` (ogb 1.3.6)::

    <out_root>/<ogbn_name>/
        RELEASE_v<version>.txt
        raw/edge.csv.gz            one row "src,dst" per undirected edge (one direction)
        raw/node-feat.csv.gz       one row of features per node
        raw/node-label.csv.gz      one label per node (-1 = unlabeled)
        raw/num-node-list.csv.gz   the node count (one graph)
        raw/num-edge-list.csv.gz   the number of rows of edge.csv.gz
        raw/<additional node file>.csv.gz   e.g. node_year for ogbn-arxiv
        split/<split name>/{train,valid,test}.csv.gz   one node id per row

Like the real ogbn-products, the edge file also holds self-loops, which OGB's
``add_inverse_edge`` turns into duplicated self-loops; ``Graph.from_edges`` removes them.
Edge weights are not written (OGB node datasets have none).
"""
from __future__ import annotations

import gzip
import os
from typing import Optional

import numpy as np
import torch

from graph_eigen.data.ogb import ogb_meta
from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import SPLIT_NAMES, Graph

#: Default random split fractions (train, valid): close to ogbn-products' sales-ranking split
#: (8% / 1.6% / 90.4%); the rest is test.
DEFAULT_FRACTIONS = (0.08, 0.02)
#: Fraction of nodes that get a self-loop in the edge file.
SELF_LOOP_FRACTION = 0.01


def write_ogb_layout(
    graph: Graph,
    out_root: str,
    name: str = "ogbn-products",
    split: Optional[dict] = None,
    seed: int = 0,
) -> str:
    """Write ``graph`` as OGB dataset ``name`` under ``out_root``; return the dataset folder.

    ``split`` maps train/valid/test to node ids; without it a seeded random 8%/2%/90% split is
    made (``graph.split`` is not used unless passed). Load the result with
    ``load_ogb(name, out_root)``.
    """
    meta = ogb_meta(name)
    if meta["is hetero"] == "True" or meta["binary"] == "True" or int(meta["num tasks"]) != 1:
        raise ConfigError(f"write_ogb_layout supports single-task homogeneous datasets, not {name}")
    if meta["has_edge_attr"] == "True":
        raise ConfigError(f"{name} needs edge features, which write_ogb_layout does not make")
    if meta["has_node_attr"] == "True" and graph.x is None:
        raise ConfigError(f"{name} needs node features but graph '{graph.name}' has none")

    rng = np.random.default_rng(seed)
    n = graph.num_nodes
    split = _random_split(n, rng) if split is None else _as_split(split)

    folder = os.path.join(out_root, name.replace("-", "_"))
    raw = os.path.join(folder, "raw")
    split_dir = os.path.join(folder, "split", meta["split"])
    os.makedirs(raw, exist_ok=True)
    os.makedirs(split_dir, exist_ok=True)

    ei = graph.edge_index.numpy()
    edges = ei[:, ei[0] < ei[1]]  # one direction per undirected edge
    loops = np.sort(rng.choice(n, size=max(1, int(SELF_LOOP_FRACTION * n)), replace=False))
    edges = np.hstack([edges, np.vstack([loops, loops])]).T

    _write(os.path.join(raw, "edge.csv.gz"), edges, "%d")
    _write(os.path.join(raw, "num-node-list.csv.gz"), np.array([[n]]), "%d")
    _write(os.path.join(raw, "num-edge-list.csv.gz"), np.array([[len(edges)]]), "%d")
    y = np.full(n, -1) if graph.y is None else graph.y.numpy()
    _write(os.path.join(raw, "node-label.csv.gz"), y.reshape(-1, 1), "%d")
    if meta["has_node_attr"] == "True":
        _write(os.path.join(raw, "node-feat.csv.gz"), graph.x.numpy(), "%.9g")
    extra = meta["additional node files"]
    for fname in ([] if extra == "None" else extra.split(",")):
        _write(os.path.join(raw, fname + ".csv.gz"), _node_values(fname, n, split), "%d")
    for key in SPLIT_NAMES:
        _write(os.path.join(split_dir, f"{key}.csv.gz"), split[key].reshape(-1, 1), "%d")
    with open(os.path.join(folder, f"RELEASE_v{meta['version']}.txt"), "w") as f:
        f.write(f"{name} layout written by graph_eigen from graph '{graph.name}'\n")
    return folder


def _random_split(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    perm = rng.permutation(n)
    n_train, n_valid = (int(round(f * n)) for f in DEFAULT_FRACTIONS)
    parts = np.split(perm, [n_train, n_train + n_valid])
    return {k: np.sort(p) for k, p in zip(SPLIT_NAMES, parts)}


def _as_split(split: dict) -> dict[str, np.ndarray]:
    missing = [k for k in SPLIT_NAMES if k not in split]
    if missing:
        raise ConfigError(f"split lacks {', '.join(missing)} (needs {', '.join(SPLIT_NAMES)})")
    return {k: torch.as_tensor(split[k]).long().view(-1).numpy() for k in SPLIT_NAMES}


def _node_values(fname: str, n: int, split: dict[str, np.ndarray]) -> np.ndarray:
    """Values for an additional node file; ``node_year`` agrees with a time split."""
    values = np.zeros(n, dtype=np.int64)
    if fname == "node_year":
        values[:] = 2017
        values[split["valid"]] = 2018
        values[split["test"]] = 2019
    return values.reshape(-1, 1)


def _write(path: str, array: np.ndarray, fmt: str) -> None:
    """A headerless gzip CSV, as OGB ships its files."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        np.savetxt(f, np.asarray(array), fmt=fmt, delimiter=",")
