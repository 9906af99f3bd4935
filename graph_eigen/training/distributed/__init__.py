"""Data-parallel training with torch.distributed (``graph-eigen train ... --distributed``).

Launched by ``torchrun``, which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT.
Every rank holds the whole graph and the same model; what is split is the seed nodes:

- **Batches.** Every rank draws each epoch's permutation of the seed pool from the same
  generator (same seed), cuts it into global batches of ``world_size * batch_size`` seeds and
  keeps every ``world_size``-th seed of each, starting at its rank. The union of the ranks'
  seeds at step t is therefore exactly the seed set of a single-process run with batch size
  ``world_size * batch_size`` at step t (the number of steps per epoch is that run's). Neighbors
  are sampled by each rank for its own seeds (with fanout -1 the batches are identical).
- **Statistics.** The objectives sum their seed statistics over ranks through the
  ``reduce`` of their :class:`~graph_eigen.model.objectives.base.ObjectiveContext` (NeuralEF: the
  number of seeds, the column sums of psi^2, the R matrix sums and the surrogate's sum;
  BASiS: the number of regressed rows and the squared error) before dividing by the global seed
  count, so every rank computes the loss of the union batch: the same value on every rank. NeuralEF's memory bank (``bank`` estimator) receives the seeds
  of all ranks through the context's ``gather``, so the banks stay identical (the bank's
  whole-graph R is then computed on every rank: replicated, not split).
- **Gradients.** ``reduce`` is an all-reduce with autograd: its backward all-reduces the
  incoming gradients (as ``torch.distributed.nn.all_reduce``), so each rank's backward of the
  common loss gives ``world_size`` times its rows' part of the union gradient, also where a
  reduced statistic feeds another (the batch estimator's column norms), and
  :meth:`DistContext.average_gradients` averages the parameter gradients over ranks (one flat
  all-reduce, as DDP does): the single-process gradient on the union batch.
- **BASiS.** Rank 0 (the context's ``leader``) computes the global targets and the reference
  (and every refresh of it, from the union batches of ``union_sampler``) and broadcasts them;
  only rank 0's batch contributes the anchors' rows to the loss (``count_anchors``).
- **Files.** Rank 0 alone writes config.json, metrics.jsonl and checkpoints. Export is sharded:
  every rank embeds a contiguous range of node ids (for GNNs, layer by layer, each layer
  all-gathered before the next) and rank 0 writes embeddings.npy.

Restrictions (a :class:`ConfigError` each): the table encoder (sparse row gradients and one row
per node: train it in one process) and full-graph batches (``--batch-size 0``). Batch norm
keeps per-rank statistics and dropout masks differ from a single process, so exact agreement
with a single-process run needs ``--norm none|layer_norm`` and ``--dropout 0``.

Backends: gloo by default (the training loop computes on CPU); NCCL when CUDA is available
and ``GRAPH_EIGEN_DIST_BACKEND=nccl`` is set (or the value ``auto``), with one GPU per local
rank carrying the collectives.

Modules: ``collectives`` (:class:`DistContext`, :func:`init_distributed`), ``sampler`` (the
sharded batches), ``setup`` (the objective's context and equal parameters on every rank) and
``export`` (the sharded embedding).
"""
from graph_eigen.training.distributed.collectives import (ENV_VARS, LAUNCH_HINT, TABLE_MESSAGE, DistContext,
                                                         exit_process, init_distributed, joined_process_group)
from graph_eigen.training.distributed.export import embed_sharded, shard_bounds
from graph_eigen.training.distributed.sampler import ShardedBatchSampler, make_sampler, union_sampler
from graph_eigen.training.distributed.setup import objective_context, setup_model

__all__ = ["ENV_VARS", "LAUNCH_HINT", "TABLE_MESSAGE", "DistContext", "ShardedBatchSampler",
           "embed_sharded", "exit_process", "init_distributed", "joined_process_group", "make_sampler",
           "objective_context",
           "setup_model", "shard_bounds", "union_sampler"]
