"""Rank, world size and the collectives of data-parallel training (torch.distributed).

:class:`DistContext` is this process's place in the process group; ``DistContext()`` is a
single process, where every collective is the identity and every hook a no-op.
:func:`init_distributed` joins the group that ``torchrun`` describes.
"""
from __future__ import annotations

import datetime
import os
import sys
from typing import Optional

import torch

from graph_eigen.errors import ConfigError, GraphEigenError

ENV_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
LAUNCH_HINT = "launch with `torchrun --nproc-per-node N -m graph_eigen train ... --distributed`"


class DistContext:
    """Rank, world size and the collectives training needs. ``DistContext()`` is one process:
    every method is then a no-op (the training loop uses it when not distributed)."""

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
        """The objectives' ``reduce`` (ObjectiveContext): sum over ranks, differentiable (the
        backward sums the gradients over ranks; see graph_eigen.training.distributed)."""
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
                raise ConfigError("distributed training needs dense gradients; " + TABLE_MESSAGE)
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

TABLE_MESSAGE = ("the table encoder (one row per node, sparse gradients) trains in one process; "
                  "use mlp, resmlp, sage or gcn for distributed training")


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


_JOINED = []  # non-empty once this process has joined a process group


def joined_process_group() -> bool:
    """Whether this process joined a process group (see :func:`exit_process`)."""
    return bool(_JOINED)


def exit_process(code: int) -> None:
    """End a process that joined a process group with ``code``, skipping the interpreter's
    finalization.

    Why: a gloo worker thread releases each finished collective after the caller has seen it
    complete (the final barrier holds the earlier all-gathers, whose tensors were made in Python).
    Releasing a Python-made tensor takes the GIL; when the main thread has meanwhile returned and
    the interpreter is finalizing, CPython ends the thread that asks for the GIL, the unwind
    crosses a C++ destructor and std::terminate aborts the process ("terminate called without an
    active exception", exit code -6, after every file was written). Seen about 1 run in 10 of a
    two-rank run on a loaded 2-core machine (core dump: ``ProcessGroupGloo::runLoop`` ->
    ``~AsyncBarrierWork`` -> ``~AsyncAllgatherWork`` -> ``TensorImpl::decref_pyobject`` ->
    ``take_gil`` -> ``pthread_exit``, the main thread in ``Py_FinalizeEx``). Every file is written
    atomically and closed before this point, so the streams are flushed and the process ends
    without finalizing.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def init_distributed(backend: Optional[str] = None, timeout_s: float = 1800.0) -> DistContext:
    """Join the process group described by torchrun's environment variables."""
    import torch.distributed as dist

    missing = [v for v in ENV_VARS if v not in os.environ]
    if missing:
        raise ConfigError(f"distributed training needs torchrun's environment ({', '.join(missing)} not set); "
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
    _JOINED.append(True)
    return DistContext(rank, world, local_rank, backend)
