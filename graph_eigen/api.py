"""The Python entry point: an estimator in scikit-learn's style.

    from graph_eigen import GraphEigen, load_dataset
    graph = load_dataset("Photo", root="data/")
    model = GraphEigen(dim=32, epochs=10).fit(graph)
    model.embedding_            # one row per node of the training graph
    model.transform(new_graph)  # any graph with the same features: new nodes too

Parameters left at ``None`` take the library's defaults for the graph's size (presets.py),
the same the CLI uses. ``fit`` trains in a run folder (``run_dir``, or a temporary one removed
with the estimator) in the format the CLI writes, so ``save``/``load`` and ``graph-eigen embed/eval/probe`` interoperate.
"""
from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import fields
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .config import TrainConfig
from .errors import CheckpointError, ConfigError, TrainingDivergedError
from .graph import Graph

SAVED_FILES = ("config.json", "checkpoint.pt", "embeddings.npy", "embeddings.npy.json")


def as_graph(data: Any, features: Any = None, name: str = "graph") -> Graph:
    """A :class:`Graph` from a Graph, a torch_geometric ``Data``, or a scipy sparse adjacency
    (with ``features``, an n x F array, optional)."""
    import scipy.sparse as sp

    if isinstance(data, Graph):
        if features is not None:
            raise ConfigError("features are given with a Graph, which holds its own")
        return data
    if sp.issparse(data):
        coo = sp.coo_matrix(data)
        if coo.shape[0] != coo.shape[1]:
            raise ConfigError(f"the adjacency must be square, got shape {coo.shape}")
        weights = None if np.all(coo.data == 1) else coo.data
        return Graph.from_edges(np.vstack([coo.row, coo.col]), num_nodes=coo.shape[0], x=features,
                                edge_weight=weights, name=name)
    if hasattr(data, "edge_index") and hasattr(data, "num_nodes"):  # torch_geometric.data.Data
        return Graph.from_edges(data.edge_index, num_nodes=data.num_nodes,
                                x=getattr(data, "x", None) if features is None else features,
                                y=getattr(data, "y", None), edge_weight=getattr(data, "edge_weight", None),
                                name=name)
    raise ConfigError(f"expected a Graph, a torch_geometric Data or a scipy sparse adjacency, "
                      f"got {type(data).__name__}")


class GraphEigen:
    """Laplacian eigenmaps learned by a neural encoder, with out-of-sample ``transform``.

    Learned state: ``embedding_`` (n x dim, the training graph's nodes), ``eigenvalues_``
    (of L_sym, as learned), ``config_`` (the full configuration) and ``run_dir_``.
    """

    def __init__(self, dim: Optional[int] = None, objective: Optional[str] = None,
                 encoder: Optional[str] = None, epochs: Optional[int] = None, lr: Optional[float] = None,
                 batch_size: Optional[int] = None, seed: int = 0, device: str = "auto",
                 options: Optional[dict] = None, run_dir: Optional[str] = None, progress: bool = False) -> None:
        self.dim, self.objective, self.encoder, self.epochs = dim, objective, encoder, epochs
        self.lr, self.batch_size, self.seed, self.device = lr, batch_size, seed, device
        self.options, self.run_dir, self.progress = options, run_dir, progress

    # ------------------------------------------------------------------ scikit-learn protocol
    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in ("dim", "objective", "encoder", "epochs", "lr",
                                                        "batch_size", "seed", "device", "options",
                                                        "run_dir", "progress")}

    def set_params(self, **params) -> "GraphEigen":
        for name, value in params.items():
            if name not in self.get_params():
                raise ConfigError(f"unknown parameter '{name}'")
            setattr(self, name, value)
        return self

    def fit(self, graph: Any, features: Any = None) -> "GraphEigen":
        """Train on ``graph`` (see :func:`as_graph`); returns self."""
        from .embed import export_embeddings
        from .run_graph import run_operator
        from .train import train

        graph = as_graph(graph, features)
        cfg = self._config(graph)
        graph = run_operator(cfg, graph)
        run = Path(self.run_dir) if self.run_dir else Path(tempfile.mkdtemp(prefix="graph-eigen-"))
        if not self.run_dir:  # a temporary run folder goes with the estimator
            weakref.finalize(self, shutil.rmtree, run, ignore_errors=True)
        try:
            model = train(cfg, graph, run, overwrite=self.run_dir is None, progress=self.progress)
        except TrainingDivergedError as exc:
            if self.run_dir:
                raise
            # the temporary folder goes with the estimator: do not point the user to it
            raise TrainingDivergedError(str(exc).split(";")[0] + " (try a smaller `lr`)") from None
        export_embeddings(model, graph, run / "embeddings.npy", run_dir=run)
        self.model_, self.config_, self.run_dir_, self.extension_ = model, cfg, run, None
        self.n_features_in_ = graph.num_features
        self.embedding_ = np.load(run / "embeddings.npy")
        self.eigenvalues_ = model.objective.learned_eigenvalues().numpy()
        return self

    def transform(self, graph: Any, features: Any = None, nodes: Any = None, incremental: bool = False) -> np.ndarray:
        """The embedding of the nodes of ``graph`` (float32, one row per node) by the trained encoder.

        ``nodes``: ids of the nodes to embed, for new nodes that joined the training graph (their
        edges may point to old nodes; the operator's kNN graphs are searched among all of
        ``graph``'s nodes). Only their rows are returned: ``embedding_`` stays as it is.

        ``incremental`` (with ``nodes``; the other nodes of ``graph`` must be the training graph's,
        in order): keep the training graph's operator state and compute the new nodes' rows only,
        in time proportional to their number (extension.py). Without it every row of the enlarged
        graph's operator is rebuilt, and the new rows equal those of a full ``transform(graph)``.
        """
        from .embed import embed_graph
        from .model import load_model
        from .run_graph import check_node_ids, run_operator

        self._check_fitted()
        if self.config_.encoder == "table":
            raise ConfigError("the `table` encoder has one free vector per training node: it cannot embed "
                              "another graph's nodes (choose a feature encoder such as `sign`)")
        graph = as_graph(graph, features)
        trained_on = getattr(self, "n_features_in_", None)
        if trained_on is not None and graph.num_features != trained_on:
            raise ConfigError(f"the model was trained on {trained_on} features per node, "
                              f"'{graph.name}' has {graph.num_features}")
        ids = None if nodes is None else check_node_ids(nodes, graph.num_nodes, "`nodes`").numpy()
        if incremental:
            if ids is None:
                raise ConfigError("incremental=True embeds the new nodes given by `nodes`; pass their ids")
            return self.prepare_incremental(graph, ids).extension_.embed(graph, ids)
        graph = run_operator(self.config_, graph)  # the operator the model was trained on
        if getattr(self, "model_", None) is None:  # loaded from a folder: built for the first graph seen
            self.model_ = load_model(self.run_dir_, graph)
            self.n_features_in_ = graph.num_features
        embedding = embed_graph(self.model_, graph)
        return embedding if ids is None else embedding[ids]

    def fit_transform(self, graph: Any, features: Any = None) -> np.ndarray:
        return self.fit(graph, features).embedding_

    def save(self, folder: str | Path) -> Path:
        """Copy the run folder's model files to ``folder`` (the CLI's run-folder format)."""
        self._check_fitted()
        folder = Path(folder)
        if folder.resolve() == Path(self.run_dir_).resolve():
            return folder
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"cannot save to '{folder}': it is a file, not a folder")
        if folder.is_dir() and any(folder.iterdir()):  # never mix with, or replace, files already there
            raise ConfigError(f"cannot save to '{folder}': the folder already holds files; choose a new "
                              f"or empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        for name in SAVED_FILES:
            if (Path(self.run_dir_) / name).is_file():
                shutil.copy2(Path(self.run_dir_) / name, folder / name)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "GraphEigen":
        """An estimator from a run folder written by ``save`` or by ``graph-eigen train``."""
        from .checkpoint import load_checkpoint

        folder = Path(folder)
        cfg = TrainConfig.load(folder)
        load_checkpoint(folder)  # refuse a missing or damaged checkpoint now, not at transform
        est = cls(dim=cfg.dim, objective=cfg.objective, encoder=cfg.encoder, epochs=cfg.epochs, lr=cfg.lr,
                  batch_size=cfg.batch_size, seed=cfg.seed, device=cfg.device)
        est.config_, est.run_dir_, est.model_ = cfg, folder, None
        emb = folder / "embeddings.npy"
        est.embedding_ = np.load(emb) if emb.is_file() else None
        return est

    # ------------------------------------------------------------------ helpers
    def _config(self, graph: Graph) -> TrainConfig:
        from .presets import recommended_config

        options = self.options or {}
        if not isinstance(options, dict):
            raise ConfigError(f"`options` must be a dict of option names to values, got {type(options).__name__}")
        cfg = recommended_config(graph.name, graph.num_nodes, objective=self.objective or options.get("objective"),
                                 encoder=self.encoder or options.get("encoder"),
                                 has_features=graph.x is not None).to_dict()
        known = {f.name for f in fields(TrainConfig)}
        unknown = set(self.options or {}) - known
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(sorted(unknown))}; see TrainConfig")
        cfg.update(self.options or {})
        for name in ("dim", "objective", "encoder", "epochs", "lr", "batch_size"):
            if getattr(self, name) is not None:
                cfg[name] = getattr(self, name)
        cfg.update(seed=self.seed, device=self.device, dataset=graph.name)
        return TrainConfig.from_dict(cfg).validate()

    def prepare_incremental(self, graph: Any, nodes: Any) -> "GraphEigen":
        """Build, once, the training graph's state that ``transform(..., incremental=True)`` reads
        (its kNN indexes, degrees and propagated features), from ``graph`` without ``nodes``, which
        must be the training graph. Called by the first incremental transform; returns self."""
        from .extension import NewNodeExtension
        from .model import load_model
        from .run_graph import check_node_ids, run_operator

        self._check_fitted()
        if getattr(self, "extension_", None) is None:
            graph = as_graph(graph)
            new = check_node_ids(nodes, graph.num_nodes, "`nodes`").numpy()
            old_graph = graph.subgraph(np.setdiff1d(np.arange(graph.num_nodes), new))
            if getattr(self, "model_", None) is None:
                self.model_ = load_model(self.run_dir_, run_operator(self.config_, old_graph))
            self.extension_ = NewNodeExtension(self.config_, self.model_, old_graph)
        return self

    def _check_fitted(self) -> None:
        if getattr(self, "run_dir_", None) is None:
            raise CheckpointError("this GraphEigen is not fitted yet: call fit(graph) or GraphEigen.load(folder)")
