"""The graph of a run: its dataset (or the subgraph of ``--train-nodes``) with the run's
operator options applied. :func:`run_graph` is the one place that rebuilds it from a run's
configuration: train, embed, eval, probe, plot and the demo call it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from graph_eigen.config import TrainConfig
from graph_eigen.data import load_dataset
from graph_eigen.errors import ConfigError, param
from graph_eigen.graph.core import Graph
from graph_eigen.graph.knn import with_feature_knn


def run_graph(cfg: TrainConfig, dataset: Optional[str] = None, root: Optional[str] = None,
              operator: bool = True) -> Graph:
    """The graph a run trains on, rebuilt from its configuration ``cfg``; with ``dataset`` (and
    ``root``), another graph given the same operator. ``operator=False`` leaves out the
    operator's options (``--feature-knn``): the nodes, features and labels as loaded, which is
    what the probe and the plots read."""
    graph = load_graph(dataset or cfg.dataset, root if dataset else cfg.root,
                        None if dataset else cfg.train_nodes)
    return run_operator(cfg, graph) if operator else graph


def run_operator(cfg: TrainConfig, graph: Graph, spaces: Optional[dict] = None) -> Graph:
    """``graph`` with the run's operator options applied (the feature kNN graph, when on);
    ``spaces``: the kNN graphs' projected rows (``graph.knn.feature_spaces``), when computed already."""
    return with_feature_knn(graph, cfg.feature_knn, cfg.feature_knn_weight, cfg.feature_knn_source, spaces)


def load_graph(dataset: str, root: Optional[str] = None, train_nodes: Optional[str] = None) -> Graph:
    """The dataset, or the subgraph induced by the node ids in the .npy file ``train_nodes``, in
    increasing id order whatever the file's order (row i of the run's embedding is the i-th
    smallest id; the sidecar says so)."""
    graph = load_dataset(dataset, root)
    if train_nodes:
        graph = graph.subgraph(np.sort(load_node_ids(train_nodes, graph.num_nodes, "train_nodes").numpy()))
    return graph


def load_node_ids(path: Optional[str], num_nodes: int, option: str) -> Optional[torch.Tensor]:
    """Node ids from a .npy file (None without a path), checked against the graph's size;
    ``option`` is the parameter the path came from, named in the error messages."""
    if not path:
        return None
    try:
        ids = np.load(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {param(option)} '{path}': {exc}") from exc
    return check_node_ids(ids, num_nodes, f"{param(option)} '{path}'")


def check_node_ids(ids, num_nodes: int, what: str) -> torch.Tensor:
    """``ids`` as an int64 tensor once they are a non-empty 1-D array of distinct integer node ids
    in ``[0, num_nodes)``; ``what`` names them in the error."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ConfigError(f"{what} must hold a non-empty 1-D array of integer node ids, "
                          f"got shape {ids.shape} of {ids.dtype}")
    if ids.min() < 0 or ids.max() >= num_nodes:
        raise ConfigError(f"{what} has node ids outside [0, {num_nodes}): min {ids.min()}, max {ids.max()}")
    if np.unique(ids).size != ids.size:
        raise ConfigError(f"{what} lists some node ids more than once")
    return torch.from_numpy(ids.astype(np.int64))


PATH_OPTIONS = ("root", "train_nodes", "seed_nodes")  # stored absolute: a run is used from any folder


def absolute(key: str, value):
    """``value`` of option ``key`` with paths (also a ``file:PATH`` dataset) made absolute."""
    if value and key in PATH_OPTIONS:
        return os.path.abspath(value)
    if key == "dataset" and isinstance(value, str) and value.startswith("file:") and value[5:].strip():
        from graph_eigen.data.files import parse_file_spec

        path, options = parse_file_spec(value[5:])  # options name files relative to the graph file
        path = "file:" + os.path.abspath(os.path.expanduser(path))
        return ",".join([path] + [f"{key}={option}" for key, option in options.items()])
    return value


def judges_another_dataset(cfg: TrainConfig, dataset, root) -> bool:
    """Whether ``--dataset``/``--root`` name another graph than the run's own."""
    other_dataset = bool(dataset) and absolute("dataset", dataset) != absolute("dataset", cfg.dataset)
    other_root = bool(root) and Path(root).resolve() != (Path(cfg.root).resolve() if cfg.root else None)
    return other_dataset or other_root
