"""The Python entry point: an estimator in scikit-learn's style.

    from graph_eigen import GraphEigen, load_dataset
    graph = load_dataset("Photo", root="data/")
    model = GraphEigen(dim=32, epochs=10).fit(graph)
    model.embedding_            # one row per node of the training graph
    model.transform(new_graph)  # any graph with the same features: new nodes too

Parameters left at ``None`` take the library's defaults for the graph's size (runs/presets.py),
the same the CLI uses (both build a run through runs/fit.py). ``fit`` works in memory, or records the
run in ``run_dir`` when it is set; ``save`` writes the CLI's run-folder format, so ``save``/``load``
and ``graph-eigen embed/eval/probe`` interoperate.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

import numpy as np

from graph_eigen.config import TrainConfig
from graph_eigen.errors import CheckpointError, ConfigError, TrainingDivergedError
from graph_eigen.graph.core import Graph
from graph_eigen.runs.checkpoint import load_config
from graph_eigen.runs.folder import EMBEDDINGS


def as_graph(data: Any, features: Any = None, name: str = "graph") -> Graph:
    """A :class:`Graph` from what a user holds.

    Parameters
    ----------
    data : Graph, torch_geometric.data.Data or scipy sparse matrix
        The graph; a sparse matrix is its (square, symmetric or not) adjacency.
    features : array-like of shape (n_nodes, n_features), optional
        Node features, with a sparse adjacency or a ``Data`` (replacing its ``x``).
    name : str, default "graph"
        The name runs and results record.

    Returns
    -------
    Graph
        Validated and symmetrized; ``data`` itself when it is a Graph.
    """
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

    Parameters left at ``None`` take the library's defaults for the graph's size and features
    (the same as ``graph-eigen train``).

    Parameters
    ----------
    dim : int, optional
        Embedding dimension K (default 48 for graphs with features).
    objective : {"basis", "neuralef"}, optional
        The training objective.
    encoder : {"sign", "mlp", "resmlp", "sage", "gcn", "table"}, optional
        The encoder; ``table`` (one free vector per node) has no out-of-sample embedding.
    epochs, lr, batch_size : optional
        Training length, learning rate and seeds per batch (unused by the closed-form fit).
    seed : int, default 0
        Seed of every random draw: the same seed gives the same embedding.
    device : str, default "auto"
        ``auto``, ``cpu`` or ``cuda``.
    options : dict, optional
        Any other option of ``graph-eigen train`` by its Python name (e.g. ``{"layers": 2,
        "fit": "steps"}``); the keyword parameters above win over it.
    run_dir : str, optional
        Record the run in this folder as ``graph-eigen train --out`` does; None: in memory.
    progress : bool, default False
        Show progress bars.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_nodes, dim)
        The training graph's embedding, float32, row i = node i.
    eigenvalues_ : ndarray of shape (dim,)
        The eigenvalues of the normalized Laplacian, as learned.
    config_ : TrainConfig
        The run's full configuration.
    run_dir_ : Path or None
        The folder the run is recorded in.
    n_features_in_ : int
        Features per node of the training graph.
    label_names_ : tuple of str or None
        The class of each label id, when the training graph's labels were class names.
    """

    def __init__(self, dim: Optional[int] = None, objective: Optional[str] = None,
                 encoder: Optional[str] = None, epochs: Optional[int] = None, lr: Optional[float] = None,
                 batch_size: Optional[int] = None, seed: int = 0, device: str = "auto",
                 options: Optional[dict] = None, run_dir: Optional[str] = None, progress: bool = False) -> None:
        self.dim, self.objective, self.encoder, self.epochs = dim, objective, encoder, epochs
        self.lr, self.batch_size, self.seed, self.device = lr, batch_size, seed, device
        self.options, self.run_dir, self.progress = options, run_dir, progress

    # ------------------------------------------------------------------ scikit-learn protocol
    @classmethod
    def _param_names(cls) -> list[str]:
        """The constructor's parameters, read from its signature (as scikit-learn does)."""
        import inspect

        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    @classmethod
    def _training_params(cls) -> list[str]:
        """The constructor's parameters that are training options (TrainConfig fields)."""
        from dataclasses import fields

        options = {f.name for f in fields(TrainConfig)}
        return [name for name in cls._param_names() if name in options]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters and their values (scikit-learn's protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "GraphEigen":
        """Set constructor parameters by name (scikit-learn's protocol); returns self."""
        for name, value in params.items():
            if name not in self._param_names():
                raise ConfigError(f"unknown parameter '{name}'")
            setattr(self, name, value)
        return self

    def fit(self, graph: Any, features: Any = None) -> "GraphEigen":
        """Fit the embedding of ``graph``.

        In memory unless ``run_dir`` is set (then the run is recorded there as ``graph-eigen
        train`` records it); :meth:`save` writes a fitted estimator to a folder.

        Parameters
        ----------
        graph, features
            The training graph, as :func:`as_graph` takes them.

        Returns
        -------
        GraphEigen
            self, fitted.
        """
        from graph_eigen.runs.fit import fit_run

        graph = as_graph(graph, features)
        cfg = self._config(graph)
        try:
            run = fit_run(cfg, graph, self.run_dir, overwrite=False, progress=self.progress)
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(str(exc)) from None
        self.model_, self.config_, self.state_ = run.model, cfg, run.state
        self.run_dir_ = Path(self.run_dir) if self.run_dir else None
        self.embedding_, self.extension_ = run.embedding, None
        self.eigenvalues_ = run.model.objective.learned_eigenvalues().numpy()
        self.n_features_in_ = graph.num_features
        self.label_names_ = graph.label_names  # the class of each label id when labels were names
        return self

    def transform(self, graph: Any, features: Any = None, nodes: Any = None, incremental: bool = False) -> np.ndarray:
        """Embed the nodes of ``graph`` with the trained encoder, without a new solve.

        Parameters
        ----------
        graph, features
            Any graph with the training graph's features (as :func:`as_graph` takes them).
        nodes : array-like of int, optional
            Ids of the nodes to embed, for new nodes that joined the training graph (their edges
            may point to old nodes; the operator's kNN graphs are searched among all of
            ``graph``'s nodes). Only their rows are returned; ``embedding_`` stays as it is.
        incremental : bool, default False
            With ``nodes``, when the other nodes of ``graph`` are the training graph's, in order:
            keep the training graph's operator state and compute the new nodes' rows only, in
            time proportional to their number. Without it every row of the enlarged graph's
            operator is rebuilt, and the new rows equal those of a full ``transform(graph)``.

        Returns
        -------
        ndarray of shape (n_nodes or len(nodes), dim)
            float32, one row per node (per id of ``nodes``, in their order).
        """
        from graph_eigen.runs.checkpoint import load_model
        from graph_eigen.runs.inputs import check_node_ids, run_operator

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
        embedding = self.model_.embed(graph)
        return embedding if ids is None else embedding[ids]

    def fit_transform(self, graph: Any, features: Any = None) -> np.ndarray:
        """:meth:`fit`, then the training graph's embedding (``embedding_``)."""
        return self.fit(graph, features).embedding_

    def save(self, folder: str | Path) -> Path:
        """Write the fitted model in the CLI's run-folder format, which :meth:`load` and
        ``graph-eigen embed/eval/probe`` read.

        Parameters
        ----------
        folder : str or Path
            A new or empty folder: nothing already there is replaced.

        Returns
        -------
        Path
            ``folder``.
        """
        from graph_eigen.io import save_json
        from graph_eigen.runs.checkpoint import save_checkpoint
        from graph_eigen.runs.export import write_embeddings
        from graph_eigen.runs.folder import CHECKPOINT, CONFIG

        self._check_fitted()
        folder = Path(folder)
        if self.run_dir_ is not None and folder.resolve() == Path(self.run_dir_).resolve():
            return folder
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"cannot save to '{folder}': it is a file, not a folder")
        if folder.is_dir() and any(folder.iterdir()):  # never mix with, or replace, files already there
            raise ConfigError(f"cannot save to '{folder}': the folder already holds files; choose a new "
                              f"or empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        if self.run_dir_ is not None:  # recorded in a folder (fit with run_dir, or loaded): copy its files
            for name in (CONFIG, CHECKPOINT, EMBEDDINGS, EMBEDDINGS + ".json"):
                if (Path(self.run_dir_) / name).is_file():
                    shutil.copy2(Path(self.run_dir_) / name, folder / name)
            return folder
        save_json(folder / CONFIG, self.config_.to_dict())
        save_checkpoint(folder, self.state_)
        write_embeddings(folder / EMBEDDINGS, self.embedding_, self.model_, self.config_.dataset, folder,
                         label_names=getattr(self, "label_names_", None))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "GraphEigen":
        """A fitted estimator from a run folder.

        Parameters
        ----------
        folder : str or Path
            Written by :meth:`save` or by ``graph-eigen train``.

        Returns
        -------
        GraphEigen
            Its parameters are the run's; the model is rebuilt at the first ``transform``.
        """
        from graph_eigen.runs.checkpoint import load_checkpoint

        folder = Path(folder)
        cfg = load_config(folder)
        load_checkpoint(folder)  # refuse a missing or damaged checkpoint now, not at transform
        est = cls(**{name: getattr(cfg, name) for name in cls._training_params()})
        est.config_, est.run_dir_, est.model_, est.state_ = cfg, folder, None, None
        emb = folder / EMBEDDINGS
        est.embedding_ = np.load(emb) if emb.is_file() else None
        return est

    # ------------------------------------------------------------------ helpers
    def _config(self, graph: Graph) -> TrainConfig:
        """The run's configuration, built as the CLI builds it (fit.run_config): the defaults for
        the graph, then ``options``, then the keyword parameters that are set."""
        from graph_eigen.runs.fit import run_config

        options = self.options if self.options is not None else {}
        if not isinstance(options, dict):
            raise ConfigError(f"`options` must be a dict of option names to values, got {type(options).__name__}")
        keywords = {name: getattr(self, name) for name in self._training_params() if getattr(self, name) is not None}
        return run_config(graph.name, {**options, **keywords}, graph)

    def prepare_incremental(self, graph: Any, nodes: Any) -> "GraphEigen":
        """Build, once, the training graph's state that ``transform(..., incremental=True)`` reads.

        Called by the first incremental transform.

        Parameters
        ----------
        graph : Graph
            The enlarged graph; without ``nodes`` it must be the training graph.
        nodes : array-like of int
            The new nodes' ids.

        Returns
        -------
        GraphEigen
            self, holding the training graph's kNN indexes, degrees and propagated features.
        """
        from graph_eigen.runs.checkpoint import load_model
        from graph_eigen.runs.extension import NewNodeExtension
        from graph_eigen.runs.inputs import check_node_ids, run_operator

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
        if getattr(self, "config_", None) is None:
            raise CheckpointError("this GraphEigen is not fitted yet: call fit(graph) or GraphEigen.load(folder)")
