"""Export: one embedding row per node, written atomically with a JSON sidecar."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .graph import Graph
from .io import save_json, save_npy
from .model import Model


def embed_graph(model: Model, graph: Graph, progress: bool = False, chunk: Optional[int] = None) -> np.ndarray:
    """The embedding of every node of ``graph`` (n x K float32), deterministic (eval mode).

    ``chunk``: nodes per batch of the encoder's ``embed_all`` (None: the encoder's default); a
    GNN's export memory grows with it.
    """
    model.encoder.eval()
    model.objective.eval()
    with torch.no_grad():
        kwargs = {} if chunk is None else {"chunk": chunk}
        psi = model.encoder.embed_all(graph, progress=progress, **kwargs)
        return model.objective.finalize(psi).numpy().astype(np.float32)


def export_embeddings(model: Model, graph: Graph, out: str | Path, run_dir: Optional[str | Path] = None,
                      progress: bool = False, embed=None, nodes: Optional[np.ndarray] = None,
                      nodes_file: Optional[str] = None, row_ids: Optional[str] = None) -> dict:
    """Write ``out`` (.npy) and ``out + '.json'``; returns the sidecar's content.

    ``embed(model, graph, progress)`` replaces :func:`embed_graph` (distributed: sharded export).
    ``nodes``: write only these nodes' rows (row i = node ``nodes[i]``; ``nodes_file``, the file
    they came from, is named in the sidecar). ``row_ids``: which node each row is, when not
    node i of ``graph``'s dataset (a run trained on ``train_nodes``), written in the sidecar.
    """
    start = time.perf_counter()
    emb = (embed or embed_graph)(model, graph, progress)
    if nodes is not None:
        emb = emb[nodes]
    node_ids = (nodes_file or "given by the caller") if nodes is not None else row_ids
    return write_embeddings(out, emb, model, graph.name, run_dir, time.perf_counter() - start, node_ids)


def write_embeddings(out: str | Path, emb: np.ndarray, model: Model, dataset: str,
                     run_dir: Optional[str | Path] = None, seconds: Optional[float] = None,
                     node_ids: Optional[str] = None) -> dict:
    """Write ``emb`` to ``out`` (.npy) and its sidecar ``out + '.json'`` (what made it, and the
    export's time when ``seconds`` is given); returns the sidecar's content."""
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
    save_json(str(out) + ".json", meta)
    return meta
