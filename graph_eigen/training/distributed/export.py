"""Sharded export: every rank embeds a contiguous range of node ids; rank 0 writes the file."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from graph_eigen.graph.core import Graph
from graph_eigen.model.build import Model
from graph_eigen.training.distributed.collectives import DistContext


# ---------------------------------------------------------------------------------------------
def shard_bounds(n: int, world_size: int) -> list[int]:
    """Contiguous ranges of node ids: rank r embeds ``[bounds[r], bounds[r + 1])``."""
    return [n * r // world_size for r in range(world_size + 1)]


@torch.no_grad()
def embed_sharded(ctx: DistContext, model: Model, graph: Graph, progress: bool = False) -> Optional[np.ndarray]:
    """The exported embedding (as ``Model.embed``), computed by all ranks (``Encoder.embed_shard``:
    each rank a contiguous range of nodes); returned on rank 0, None elsewhere. An encoder without
    a sharded path is run by rank 0 alone."""
    if not ctx.enabled:
        return model.embed(graph, progress)
    encoder = model.encoder
    encoder.eval()
    model.objective.eval()
    lo, hi = shard_bounds(graph.num_nodes, ctx.world_size)[ctx.rank:ctx.rank + 2]
    psi = encoder.embed_shard(graph, lo, hi, ctx.all_gather_rows, progress=progress and ctx.is_writer)
    if psi is None:
        psi = encoder.embed_all(graph, progress=progress) if ctx.is_writer else None
    if not ctx.is_writer:
        return None
    return model.objective.finalize(psi).numpy().astype(np.float32)
