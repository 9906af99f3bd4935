"""Sharded export: every rank embeds a contiguous range of node ids; rank 0 writes the file."""
from __future__ import annotations

import types
from typing import Optional

import numpy as np
import torch

from ..graph import Graph
from .collectives import DistContext


# ---------------------------------------------------------------------------------------------
def shard_bounds(n: int, world_size: int) -> list[int]:
    """Contiguous ranges of node ids: rank r embeds ``[bounds[r], bounds[r + 1])``."""
    return [n * r // world_size for r in range(world_size + 1)]


@torch.no_grad()
def embed_sharded(ctx: DistContext, model, graph: Graph, progress: bool = False) -> Optional[np.ndarray]:
    """The exported embedding (as ``embed.embed_graph``), computed by all ranks; returned on rank 0
    (None elsewhere). MLPs embed a contiguous shard of nodes each; GNNs run PyG's layer-wise
    inference over a shard of the loader's input nodes, all-gathering every layer."""
    from ..embed import embed_graph
    from ..encoders import FeatureMLP, GNNEncoder

    if not ctx.enabled:
        return embed_graph(model, graph, progress)
    encoder = model.encoder
    encoder.eval()
    model.objective.eval()
    graph = encoder.prepare(graph)  # the features as the encoder reads them (projected or not)
    lo, hi = shard_bounds(graph.num_nodes, ctx.world_size)[ctx.rank:ctx.rank + 2]
    if isinstance(encoder, FeatureMLP):
        shard = types.SimpleNamespace(x=graph.x[lo:hi], num_nodes=hi - lo,
                                      propagated_hops=getattr(graph, "propagated_hops", None))
        part = encoder.embed_all(shard, progress=progress and ctx.is_writer) if hi > lo else encoder.apply_rows(shard.x)
        psi = ctx.all_gather_rows(part)
    elif isinstance(encoder, GNNEncoder):
        psi = _gnn_inference_sharded(ctx, encoder.net, graph, torch.arange(lo, hi))
    else:  # no sharded path: rank 0 embeds everything
        psi = encoder.embed_all(graph, progress=progress) if ctx.is_writer else None
    if not ctx.is_writer:
        return None
    return model.objective.finalize(psi).numpy().astype(np.float32)


def _gnn_inference_sharded(ctx: DistContext, net, graph: Graph, nodes: torch.Tensor,
                           chunk: int = 65536) -> torch.Tensor:
    """``BasicGNN.inference`` with the loader's input nodes split over ranks."""
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader

    assert getattr(net, "jk_mode", None) in (None, "last")
    data = Data(x=graph.x, edge_index=graph.edge_index, num_nodes=graph.num_nodes)
    loader = NeighborLoader(data, num_neighbors=[-1], input_nodes=nodes, batch_size=chunk,
                            shuffle=False) if len(nodes) else []
    x_all = graph.x
    for layer in range(net.num_layers):
        parts = [net.inference_per_layer(layer, x_all[b.n_id], b.edge_index, b.batch_size) for b in loader]
        mine = torch.cat(parts) if parts else x_all.new_zeros((0, net.convs[layer].out_channels))
        x_all = ctx.all_gather_rows(mine)
    return x_all


def export_sharded(ctx: DistContext, model, graph: Graph, out, run_dir=None,
                   progress: bool = False) -> Optional[dict]:
    """``embed.export_embeddings`` with the sharded embedding; rank 0 writes and returns the sidecar."""
    from ..embed import export_embeddings

    if ctx.is_writer:
        return export_embeddings(model, graph, out, run_dir=run_dir, progress=progress,
                                 embed=lambda m, g, p: embed_sharded(ctx, m, g, p))
    embed_sharded(ctx, model, graph, progress=False)
    return None
