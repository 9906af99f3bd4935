"""A model's set-up for data-parallel training: the objective's context and equal parameters."""
from __future__ import annotations

from typing import Callable, Optional

import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives.base import ObjectiveContext
from graph_eigen.training.distributed.collectives import TABLE_MESSAGE, DistContext
from graph_eigen.training.distributed.sampler import union_sampler


def objective_context(ctx: DistContext, sampler: BatchSampler,
                      embed_all: Optional[Callable[[], torch.Tensor]] = None) -> ObjectiveContext:
    """What the objective of this process is given: the single-process defaults, or sums and
    gathers over ranks, rank 0 as the leader that computes and broadcasts shared results, and
    only rank 0 counting the anchors (every rank's batch holds them)."""
    if not ctx.enabled:
        return ObjectiveContext(embed_all=embed_all)
    return ObjectiveContext(reduce=ctx.reduce_statistic, gather=ctx.all_gather_rows,
                            broadcast=ctx.broadcast_tensor, processes=ctx.world_size,
                            leader=ctx.rank == 0, count_anchors=ctx.rank == 0, embed_all=embed_all,
                            union_sampler=lambda: union_sampler(sampler))


def setup_model(ctx: DistContext, model, graph: Graph, sampler: BatchSampler,
                embed_all: Optional[Callable[[], torch.Tensor]] = None) -> None:
    """``model.objective.setup`` with this process's context; with several processes the
    encoder's parameters are then made equal to rank 0's."""
    if ctx.enabled and getattr(model.encoder, "sparse", False):
        raise ConfigError(TABLE_MESSAGE)
    model.objective.setup(graph, sampler, objective_context(ctx, sampler, embed_all))
    if ctx.enabled:
        ctx.broadcast_module(model.encoder)
