"""Sharded batches: each process's share of the batches of a single-process sampler."""
from __future__ import annotations

from typing import Iterator, Sequence

import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.sampling import Batch, BatchSampler
from graph_eigen.training.distributed.collectives import DistContext


def make_sampler(ctx: DistContext, graph: Graph, batch_size: int, fanouts: Sequence[int], seed: int = 0,
                 **kwargs) -> BatchSampler:
    """The training sampler of this process: a :class:`BatchSampler` in one process, else this
    rank's :class:`ShardedBatchSampler` (``batch_size`` per rank)."""
    if not ctx.enabled:
        return BatchSampler(graph, batch_size, fanouts, seed=seed, **kwargs)
    return ShardedBatchSampler(graph, batch_size, fanouts, seed=seed, rank=ctx.rank,
                               world_size=ctx.world_size, **kwargs)


def union_sampler(sampler: "ShardedBatchSampler") -> BatchSampler:
    """A single-process sampler of ``sampler``'s union batches (``world_size * batch_size``
    seeds), drawn as one process would draw them: where objectives draw batches of their own."""
    return BatchSampler(sampler.graph, sampler.global_batch_size, sampler.fanouts, seed=0,
                        anchors=sampler.anchors, with_features=sampler.with_features)


# ---------------------------------------------------------------------------------------------
class ShardedBatchSampler(BatchSampler):
    """Rank ``rank``'s share of the batches of a ``world_size * batch_size`` sampler.

    ``batch_size`` is per rank. The permutation is drawn from the generator shared by all ranks
    (same seed), so the union of the ranks' seeds at step t is the seed set of
    ``BatchSampler(graph, world_size * batch_size, ...)`` at step t. A rank whose share of the
    last, short batch is empty yields a batch with no seeds (it still joins the collectives).
    """

    def __init__(self, graph: Graph, batch_size: int, fanouts: Sequence[int], seed: int = 0,
                 rank: int = 0, world_size: int = 1, **kwargs) -> None:
        if batch_size == 0:
            raise ConfigError("distributed training needs neighbor-sampled batches (`batch_size` > 0): a "
                              "full-graph batch is one step with nothing to share between processes")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is outside a world of {world_size}")
        super().__init__(graph, batch_size, fanouts, seed=seed, **kwargs)
        self.rank, self.world_size = rank, world_size
        self.global_batch_size = min(batch_size * world_size, len(self.pool))

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.pool) // self.global_batch_size)

    def epoch(self) -> Iterator[Batch]:
        order = self.pool[torch.randperm(len(self.pool), generator=self.generator)]
        g = self.global_batch_size
        for start in range(0, len(order), g):
            yield self.sample(order[start:start + g][self.rank::self.world_size])

    def sample(self, seeds: torch.Tensor) -> Batch:
        """As :meth:`BatchSampler.sample`, with a neighbor-sampling stream of the rank's own
        (derived from the shared global RNG state, so still deterministic in (seed, step))."""
        base = int(torch.randint(0, 2 ** 62, (1,)))
        torch.manual_seed((base + 1_000_003 * self.rank) % (2 ** 63 - 1))
        return super().sample(seeds)


