"""Data-parallel training with torch.distributed (``graph-eigen train ... --distributed``).

Launched by ``torchrun``, which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT.
Every rank holds the whole graph and the same model; what is split is the seed nodes:

- **Batches.** Every rank draws each epoch's permutation of the seed pool from the same
  generator (same seed), cuts it into global batches of ``world_size * batch_size`` seeds and
  keeps every ``world_size``-th seed of each, starting at its rank. The union of the ranks'
  seeds at step t is therefore exactly the seed set of a single-process run with batch size
  ``world_size * batch_size`` at step t (the number of steps per epoch is that run's). Neighbors
  are sampled by each rank for its own seeds (with fanout -1 the batches are identical).
- **Statistics.** The objectives sum their seed statistics over ranks through the hook
  ``objective.reduce`` (NeuralEF: the number of seeds, the column sums of psi^2, the R matrix
  sums and the surrogate's sum; BASiS: the number of regressed rows and the squared error)
  before dividing by the global seed count, so every rank computes the loss of the union batch:
  the same value on every rank. NeuralEF's memory bank (``bank`` estimator) receives the seeds
  of all ranks through the hook ``objective.gather``, so the banks stay identical (the bank's
  whole-graph R is then computed on every rank: replicated, not split).
- **Gradients.** ``reduce`` is an all-reduce with autograd: its backward all-reduces the
  incoming gradients (as ``torch.distributed.nn.all_reduce``), so each rank's backward of the
  common loss gives ``world_size`` times its rows' part of the union gradient, also where a
  reduced statistic feeds another (the batch estimator's column norms), and
  :meth:`DistContext.average_gradients` averages the parameter gradients over ranks (one flat
  all-reduce, as DDP does): the single-process gradient on the union batch.
- **BASiS.** Rank 0 computes the global targets and the reference (and every refresh of it)
  and broadcasts them; only rank 0's batch contributes the anchors' rows to the loss.
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
"""
from __future__ import annotations

import datetime
import json
import os
import types
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np
import torch

from .errors import CheckpointError, ConfigError, GraphEigenError
from .graph import Graph
from .sampling import Batch, BatchSampler

ENV_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
LAUNCH_HINT = "launch with `torchrun --nproc-per-node N -m graph_eigen train ... --distributed`"


# ---------------------------------------------------------------------------------------------
# the process group
# ---------------------------------------------------------------------------------------------
class DistContext:
    """Rank, world size and the collectives training needs. ``DistContext()`` is one process:
    every method is then a no-op (``train`` uses it when not distributed)."""

    def __init__(self, rank: int = 0, world_size: int = 1, local_rank: int = 0,
                 backend: Optional[str] = None) -> None:
        self.rank, self.world_size, self.local_rank, self.backend = rank, world_size, local_rank, backend
        self.device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")

    # -- who am I
    @property
    def enabled(self) -> bool:
        return self.backend is not None

    @property
    def is_writer(self) -> bool:
        """Rank 0 writes the run folder and the embedding."""
        return self.rank == 0

    def run_info(self) -> dict:
        """Saved into config.json (unknown keys are ignored by TrainConfig)."""
        return {"distributed": {"world_size": self.world_size, "backend": self.backend}} if self.enabled else {}

    def close(self) -> None:
        import torch.distributed as dist

        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()

    def on_writer(self, fn, default=None):
        """``fn()`` on rank 0 (its result; ``default`` elsewhere). The other ranks wait for it, and
        if it raised a GraphEigenError there they raise one too, so no rank is left waiting."""
        if not self.enabled:
            return fn()
        import torch.distributed as dist

        result, error = default, None
        if self.is_writer:
            try:
                result = fn()
            except GraphEigenError as exc:
                error = exc
        message = [None if error is None else str(error)]
        dist.broadcast_object_list(message, src=0, device=self.device)
        if error is not None:
            raise error
        if message[0] is not None:
            raise ConfigError(f"rank 0 stopped: {message[0]}")
        return result

    # -- collectives (identity in one process)
    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``t`` over ranks (a new tensor; no gradient)."""
        if not self.enabled:
            return t
        import torch.distributed as dist

        buf = t.detach().to(self.device, copy=True)
        dist.all_reduce(buf, op=dist.ReduceOp.SUM)
        return buf.to(t.device)

    def reduce_statistic(self, t: torch.Tensor) -> torch.Tensor:
        """The objectives' ``reduce`` hook: sum over ranks, differentiable (the backward sums
        the gradients over ranks; see the module docstring)."""
        if not self.enabled:
            return t
        return _SumOverRanks.apply(t, self)

    def all_true(self, flag: bool) -> bool:
        if not self.enabled:
            return bool(flag)
        return int(self.sum(torch.tensor([int(bool(flag))]))) == self.world_size

    def broadcast_tensor(self, t: Optional[torch.Tensor], src: int = 0) -> torch.Tensor:
        """``t`` from rank ``src`` on every rank (on CPU); other ranks pass None."""
        if not self.enabled:
            return t
        import torch.distributed as dist

        meta = [(tuple(t.shape), t.dtype) if self.rank == src else None]
        dist.broadcast_object_list(meta, src=src, device=self.device)
        shape, dtype = meta[0]
        if self.rank == src:
            buf = t.detach().to(self.device, copy=True).contiguous()
        else:
            buf = torch.empty(shape, dtype=dtype, device=self.device)
        dist.broadcast(buf, src=src)
        return buf.cpu()

    def all_gather_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Concatenate every rank's ``rows`` (any number each, same columns) in rank order."""
        if not self.enabled:
            return rows
        import torch.distributed as dist

        counts = [int(c) for c in self.gather_counts(rows.shape[0])]
        width = max(counts)
        buf = torch.zeros((width, *rows.shape[1:]), dtype=rows.dtype, device=self.device)
        buf[: rows.shape[0]] = rows.to(self.device)
        parts = [torch.empty_like(buf) for _ in range(self.world_size)]
        dist.all_gather(parts, buf)
        return torch.cat([p[:c] for p, c in zip(parts, counts)]).to(rows.device)

    def gather_counts(self, count: int) -> list[int]:
        onehot = torch.zeros(self.world_size, dtype=torch.long)
        onehot[self.rank] = count
        return self.sum(onehot).tolist()

    def average_gradients(self, module: torch.nn.Module) -> None:
        """Average the parameter gradients over ranks in place (one flat all-reduce)."""
        if not self.enabled:
            return
        params = [p for p in module.parameters() if p.requires_grad]
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            elif p.grad.is_sparse:
                raise ConfigError("--distributed needs dense gradients; " + TABLE_MESSAGE)
        flat = self.sum(torch.cat([p.grad.reshape(-1) for p in params])) / self.world_size
        offset = 0
        for p in params:
            n = p.grad.numel()
            p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
            offset += n

    def broadcast_module(self, module: torch.nn.Module, src: int = 0) -> None:
        """Copy rank ``src``'s parameters and buffers to every rank."""
        if not self.enabled:
            return
        with torch.no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                t.copy_(self.broadcast_tensor(t if self.rank == src else None, src))

    # -- training hooks (used by train.train)
    def check_resume(self, run: Path) -> None:
        """A run's batches depend on the number of processes: resume with the same one."""
        try:
            saved = json.loads((Path(run) / "config.json").read_text()).get("distributed")
        except (OSError, json.JSONDecodeError):
            return
        before = (saved or {}).get("world_size", 1)
        if before != self.world_size:
            raise CheckpointError(
                f"run '{run}' was trained with {before} process(es); resume it with the same number "
                f"(now {self.world_size}): the batches of each step depend on it")

    def make_sampler(self, graph: Graph, batch_size: int, fanouts: Sequence[int], seed: int = 0,
                     **kwargs) -> BatchSampler:
        if not self.enabled:
            return BatchSampler(graph, batch_size, fanouts, seed=seed, **kwargs)
        return ShardedBatchSampler(graph, batch_size, fanouts, seed=seed, rank=self.rank,
                                   world_size=self.world_size, **kwargs)

    def setup(self, model, graph: Graph, sampler: BatchSampler) -> None:
        """``model.objective.setup`` with statistics summed over ranks and BASiS's reference
        from rank 0; the encoder's parameters are made equal to rank 0's."""
        objective = model.objective
        if not self.enabled:
            objective.setup(graph, sampler)
            return
        if getattr(model.encoder, "sparse", False):
            raise ConfigError(TABLE_MESSAGE)
        objective.reduce = self.reduce_statistic
        if hasattr(objective, "gather"):  # NeuralEF's memory bank receives every rank's seeds
            objective.gather = self.all_gather_rows
        if hasattr(objective, "refresh_reference"):  # BASiS
            _setup_basis(self, objective, graph, sampler)
        else:
            objective.setup(graph, sampler)
        self.broadcast_module(model.encoder)


TABLE_MESSAGE = ("the table encoder (one row per node, sparse gradients) trains in one process; "
                  "use mlp, resmlp, sage or gcn with --distributed")


class _SumOverRanks(torch.autograd.Function):
    """Forward: sum over ranks. Backward: the sum of the gradients over ranks (every rank runs
    the same backward, so the collectives line up)."""

    @staticmethod
    def forward(ctx, t: torch.Tensor, dist_ctx: DistContext) -> torch.Tensor:
        ctx.dist_ctx = dist_ctx
        return dist_ctx.sum(t)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.dist_ctx.sum(grad), None


def init_distributed(backend: Optional[str] = None, timeout_s: float = 1800.0) -> DistContext:
    """Join the process group described by torchrun's environment variables."""
    import torch.distributed as dist

    missing = [v for v in ENV_VARS if v not in os.environ]
    if missing:
        raise ConfigError(f"--distributed needs torchrun's environment ({', '.join(missing)} not set); "
                          f"{LAUNCH_HINT}")
    if not dist.is_available():
        raise ConfigError("this build of PyTorch has no torch.distributed")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    backend = (backend or os.environ.get("GRAPH_EIGEN_DIST_BACKEND") or "gloo").lower()
    if backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise ConfigError(f"unknown distributed backend '{backend}'; choose gloo or nccl")
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise ConfigError("the NCCL backend needs CUDA GPUs; use gloo on CPU")
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=timeout_s))
    return DistContext(rank, world, local_rank, backend)


# ---------------------------------------------------------------------------------------------
# sharded batches
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
            raise ConfigError("--distributed needs neighbor-sampled batches (--batch-size > 0): a "
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


# ---------------------------------------------------------------------------------------------
# BASiS: rank 0 computes the targets and the reference, everyone receives them
# ---------------------------------------------------------------------------------------------
def _setup_basis(ctx: DistContext, objective, graph: Graph, sampler: ShardedBatchSampler) -> None:
    # the reference is drawn as a single process with the union batch size would draw it
    ref_sampler = BatchSampler(graph, sampler.global_batch_size, sampler.fanouts, seed=0,
                               anchors=sampler.anchors, with_features=sampler.with_features)
    refresh = objective.refresh_reference

    def synced_refresh() -> None:
        if ctx.rank == 0:
            refresh()
        objective.reference = ctx.broadcast_tensor(objective.reference if ctx.rank == 0 else None)
        objective.reference_eigenvalues.copy_(ctx.broadcast_tensor(
            objective.reference_eigenvalues if ctx.rank == 0 else None))
        objective.reference_scale.copy_(ctx.broadcast_tensor(objective.reference_scale if ctx.rank == 0 else None))

    if ctx.rank == 0:
        objective.setup(graph, ref_sampler)  # the global solve and the first reference
    else:
        objective._graph, objective._sampler = graph, ref_sampler
    targets = getattr(objective, "_global_targets", None)
    if objective.batch_operator == "global":
        sent = ctx.broadcast_tensor(torch.from_numpy(targets) if ctx.rank == 0 else None)
        objective._global_targets = sent.numpy()
    objective.refresh_reference = synced_refresh
    # the first reference (or none, if rank 0 set it up): broadcast rank 0's
    objective.reference = ctx.broadcast_tensor(objective.reference if ctx.rank == 0 else None)
    objective.reference_eigenvalues.copy_(ctx.broadcast_tensor(
        objective.reference_eigenvalues if ctx.rank == 0 else None))
    objective.reference_scale.copy_(ctx.broadcast_tensor(objective.reference_scale if ctx.rank == 0 else None))
    objective.count_anchors = ctx.rank == 0  # every rank's batch holds the anchors; count them once


# ---------------------------------------------------------------------------------------------
# sharded export
# ---------------------------------------------------------------------------------------------
def shard_bounds(n: int, world_size: int) -> list[int]:
    """Contiguous ranges of node ids: rank r embeds ``[bounds[r], bounds[r + 1])``."""
    return [n * r // world_size for r in range(world_size + 1)]


@torch.no_grad()
def embed_sharded(ctx: DistContext, model, graph: Graph, progress: bool = False) -> Optional[np.ndarray]:
    """The exported embedding (as ``embed.embed_graph``), computed by all ranks; returned on rank 0
    (None elsewhere). MLPs embed a contiguous shard of nodes each; GNNs run PyG's layer-wise
    inference over a shard of the loader's input nodes, all-gathering every layer."""
    from .embed import embed_graph
    from .encoders import FeatureMLP, GNNEncoder

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
    from .embed import export_embeddings

    if ctx.is_writer:
        return export_embeddings(model, graph, out, run_dir=run_dir, progress=progress,
                                 embed=lambda m, g, p: embed_sharded(ctx, m, g, p))
    embed_sharded(ctx, model, graph, progress=False)
    return None
