"""Export: one embedding row per node, written atomically with a JSON sidecar."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np

from graph_eigen.graph.core import Graph
from graph_eigen.io import save_json, save_npy
from graph_eigen.model.build import Model
from graph_eigen.training.distributed import DistContext, embed_sharded


def export_embeddings(model: Model, graph: Graph, out: str | Path, run_dir: Optional[str | Path] = None,
                      progress: bool = False, embed=None, nodes: Optional[np.ndarray] = None,
                      nodes_file: Optional[str] = None, row_ids: Optional[str] = None) -> dict:
    """Write ``out`` (.npy) and ``out + '.json'``; returns the sidecar's content.

    ``embed(model, graph, progress)`` replaces ``Model.embed`` (distributed: sharded export).
    ``nodes``: write only these nodes' rows (row i = node ``nodes[i]``; ``nodes_file``, the file
    they came from, is named in the sidecar). ``row_ids``: which node each row is, when not
    node i of ``graph``'s dataset (a run trained on ``train_nodes``), written in the sidecar.
    """
    start = time.perf_counter()
    emb = embed(model, graph, progress) if embed else model.embed(graph, progress)
    if nodes is not None:
        emb = emb[nodes]
    node_ids = (nodes_file or "given by the caller") if nodes is not None else row_ids
    return write_embeddings(out, emb, model, graph.name, run_dir, time.perf_counter() - start, node_ids,
                            graph.label_names)


def write_embeddings(out: str | Path, emb: np.ndarray, model: Model, dataset: str,
                     run_dir: Optional[str | Path] = None, seconds: Optional[float] = None,
                     node_ids: Optional[str] = None, label_names: Optional[tuple[str, ...]] = None) -> dict:
    """Write ``emb`` to ``out`` (.npy) and its sidecar ``out + '.json'`` (what made it, and the
    export's time when ``seconds`` is given; ``label_names``: the class of each label id, when the
    dataset's labels were names); returns the sidecar's content."""
    save_npy(out, emb)
    meta = {
        "dataset": dataset, "nodes": int(emb.shape[0]), "dim": int(emb.shape[1]),
        "objective": model.config.objective, "encoder": model.config.encoder,
        "run_dir": None if run_dir is None else str(run_dir),
    }
    if seconds is not None:
        meta.update(seconds=seconds, nodes_per_second=emb.shape[0] / max(seconds, 1e-9))
    meta["learned_eigenvalues"] = model.objective.learned_eigenvalues().tolist()
    if node_ids:
        meta["node_ids"] = node_ids
    if label_names:
        meta["label_names"] = list(label_names)
    save_json(str(out) + ".json", meta)
    return meta


def export_sharded(ctx: DistContext, model: Model, graph: Graph, out: str | Path,
                   run_dir: Optional[str | Path] = None, progress: bool = False) -> Optional[dict]:
    """:func:`export_embeddings` with the embedding computed by every process (``embed_sharded``);
    rank 0 writes the files and returns the sidecar, the other ranks return None."""
    if ctx.is_writer:
        return export_embeddings(model, graph, out, run_dir=run_dir, progress=progress,
                                 embed=lambda m, g, p: embed_sharded(ctx, m, g, p))
    embed_sharded(ctx, model, graph, progress=False)
    return None
