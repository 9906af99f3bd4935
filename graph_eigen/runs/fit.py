"""A run assembled and fit in one place: options and a graph in, a trained model and its embedding out.

:func:`run_config` turns a user's options into the run's configuration (the defaults of
presets.py for the graph's size and features, then the options); :func:`fit_run` applies the
operator, trains (into a run folder, or in memory when none is given) and exports. The CLI's
``train`` (one process or ``--distributed``) and ``demo`` and :meth:`GraphEigen.fit` all come
through here, so a run is built the same way whichever door the user takes.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional

import numpy as np

from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.model.build import Model


@dataclass
class FittedRun:
    """What a fit leaves: the model, its configuration, the graph with its operator, the
    embedding (n x K float32; None on the processes of a distributed run that do not write),
    and the training state a checkpoint holds (for saving a run fit in memory)."""

    model: Model
    config: TrainConfig
    graph: Graph
    embedding: Optional[np.ndarray]
    state: Optional[dict] = None


def run_config(dataset: str, options: dict, graph: Optional[Graph] = None) -> TrainConfig:
    """The configuration of a run on ``dataset``: presets.py's defaults (by ``graph``'s size and
    features when it is known), overridden by ``options`` (TrainConfig fields; values coerced)."""
    from graph_eigen.runs.presets import recommended_config

    if not isinstance(options, dict):
        raise ConfigError(f"options must be a dict of option names to values, got {type(options).__name__}")
    unknown = sorted(str(k) for k in set(options) - {f.name for f in fields(TrainConfig)})
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}; see TrainConfig")
    base = recommended_config(dataset, None if graph is None else graph.num_nodes,
                              objective=options.get("objective"), encoder=options.get("encoder"),
                              has_features=graph is None or graph.x is not None).to_dict()
    return TrainConfig.from_dict({**base, **options, "dataset": dataset})


def fit_run(cfg: TrainConfig, graph: Graph, out: Optional[str | Path] = None, resume: bool = False,
            overwrite: bool = False, progress: bool = False, dist=None, row_ids: Optional[str] = None) -> FittedRun:
    """Apply ``cfg``'s operator to ``graph``, train, and export.

    With ``out``, the run is recorded in that folder (config.json, metrics, checkpoints,
    embeddings.npy with its sidecar; ``resume``/``overwrite`` as for ``graph-eigen train``);
    without, everything stays in memory. ``dist``: a distributed run's context (the export is
    then sharded over the processes). ``row_ids``: which node each row is, for the sidecar.
    """
    import time

    from graph_eigen.runs.export import write_embeddings
    from graph_eigen.runs.inputs import run_operator

    cfg.validate()
    graph = run_operator(cfg, graph)
    if out is None:
        model, state = train_in_memory(cfg, graph, progress)
        return FittedRun(model, cfg, graph, model.embed(graph), state)
    from graph_eigen.runs.folder import EMBEDDINGS, RunLock
    from graph_eigen.runs.recorder import train

    model = train(cfg, graph, out, resume=resume, overwrite=overwrite, progress=progress, dist=dist)
    path = Path(out) / EMBEDDINGS
    if dist is not None:
        from graph_eigen.runs.export import export_sharded

        export_sharded(dist, model, graph, path, run_dir=out)
        embedding = np.load(path) if dist.is_writer else None
        return FittedRun(model, cfg, graph, embedding)
    start = time.perf_counter()
    embedding = model.embed(graph)
    with RunLock(out):  # another writer may have taken the folder since training ended
        write_embeddings(path, embedding, model, graph.name, out, time.perf_counter() - start, row_ids,
                         graph.label_names)
    return FittedRun(model, cfg, graph, embedding)


def train_in_memory(cfg: TrainConfig, graph: Graph, progress: bool = False) -> tuple[Model, dict]:
    """Train with the loop alone (no folder, no checkpoint); returns the model and the state a
    checkpoint of the finished run would hold."""
    from tqdm.auto import tqdm

    from graph_eigen.errors import TrainingDivergedError
    from graph_eigen.runs.inputs import load_node_ids
    from graph_eigen.training.loop import TrainLoop

    loop = TrainLoop.build(cfg, graph, seed_nodes=load_node_ids(cfg.seed_nodes, graph.num_nodes, "seed_nodes"))
    if loop.closed_form_record is None:
        for _ in tqdm(loop.steps(), total=loop.total_steps, disable=not progress, desc="train"):
            pass
    if not loop.parameters_finite():
        raise TrainingDivergedError(f"non-finite parameters after step {loop.step - 1} (try a smaller `lr`)")
    state = loop.checkpoint_state()
    loop.model.objective.release()
    return loop.model, state
