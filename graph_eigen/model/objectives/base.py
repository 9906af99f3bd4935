"""The contract every training objective follows, and what it is given from outside.

An objective is an ``nn.Module`` (its buffers are its training state, saved in checkpoints)
that turns the encoder's output on a batch into a loss. It holds no training loop, reads no
files and calls no collective of its own: whatever it needs from the run around it (sums over
processes, the encoder's output on every node, which process computes shared results) arrives
in one :class:`ObjectiveContext`, passed to :meth:`Objective.setup`. The defaults of
``ObjectiveContext()`` are those of a single process, so an objective set up without one
trains alone.

The life of an objective in a run (graph_eigen.training.loop):

1. ``anchor_nodes(graph)``: nodes every batch must contain (BASiS's anchors), or None. Called
   before the sampler is made.
2. ``setup(graph, sampler, context)``: one-off work before the first step (a global eigensolve,
   a whole-graph kernel, a memory bank, a reference) and the context kept for ``loss``. Called
   once per run, also on resume, before the checkpoint's state is loaded into the buffers.
3. ``loss(batch, psi)`` at each step, in training mode. ``batch`` is a
   :class:`graph_eigen.graph.sampling.Batch` (its first ``batch.num_seeds`` rows are the seeds, then
   the anchors' and neighbors' rows as the sampler put them) and ``psi`` the encoder's output on
   all of the batch's nodes (rows in the batch's order, ``dim`` columns). Returns
   ``(loss, record)``: a scalar tensor to back-propagate and a dict of plain numbers for
   metrics.jsonl (at least ``"loss"``; ``"eig"`` if the objective estimates eigenvalues).
   In data-parallel training every process calls ``loss`` on its own share of the step's seeds
   and must return the loss of the union batch: every sum over seeds goes through
   ``context.reduce`` before it is divided by a global count.
4. ``finalize(psi_all)``: the exported embedding from the encoder's output on every node.
5. ``learned_eigenvalues()``: the objective's estimate of the eigenvalues of L_sym.

``needs_neighbors`` says whether ``loss`` reads the batch's sampled edges (the training loop
then skips batches without any). Adding an objective: a subclass in its own module of this
package and an entry in ``REGISTRY`` (objectives/__init__.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def _broadcast_one(t: Optional[torch.Tensor]) -> torch.Tensor:
    return t


@dataclass
class ObjectiveContext:
    """What an objective is given by the run around it; the defaults are one process.

    - ``reduce(t)``: the sum of ``t`` over processes, differentiable (its backward sums the
      gradients over processes). Every statistic summed over seeds passes through it.
    - ``gather(rows)``: every process's ``rows`` concatenated in process order (no gradient);
      NeuralEF's memory banks receive the seeds of all processes through it.
    - ``broadcast(t)``: the leader's tensor on every process (the others pass None); results
      computed by the leader alone (BASiS's global targets and reference) are shared with it.
    - ``processes``: how many processes train together; ``leader``: whether this one computes
      the shared results; ``count_anchors``: whether this process's rows of the anchors enter
      the loss (every process's batch holds the anchors, so only one may count them).
    - ``embed_all()``: the encoder's output on every node of the training graph (an inference
      pass), or None where the run offers none; NeuralEF's ``targets`` estimator with
      ``source="inference"`` refreshes its bank from it.
    - ``union_sampler()``: makes a sampler of the union batches of all processes (as one
      process would draw them), for batches an objective draws itself (BASiS's reference);
      None where the training sampler is that one already (one process).
    """

    reduce: Callable[[torch.Tensor], torch.Tensor] = _identity
    gather: Callable[[torch.Tensor], torch.Tensor] = _identity
    broadcast: Callable[[Optional[torch.Tensor]], torch.Tensor] = _broadcast_one
    processes: int = 1
    leader: bool = True
    count_anchors: bool = True
    embed_all: Optional[Callable[[], torch.Tensor]] = None
    union_sampler: Optional[Callable[[], Any]] = None

    @property
    def distributed(self) -> bool:
        """Whether more than one process trains (the collectives are not identities)."""
        return self.processes > 1


class Objective(nn.Module):
    """Base class of the training objectives; see the module docstring for the contract."""

    def __init__(self) -> None:
        super().__init__()
        self.context = ObjectiveContext()

    @property
    def needs_neighbors(self) -> bool:
        """Whether ``loss`` reads the batch's sampled edges."""
        return True

    def anchor_nodes(self, graph) -> Optional[torch.Tensor]:
        """Node ids every batch must contain, or None (the default: no anchors)."""
        return None

    def setup(self, graph, sampler, context: Optional[ObjectiveContext] = None) -> None:
        """Keep ``context`` (one process when None); subclasses add their one-off set-up."""
        self.context = context or ObjectiveContext()

    def loss(self, batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """``(loss, record)`` on one batch; see the module docstring."""
        raise NotImplementedError

    def release(self) -> None:
        """Drop what only training reads (the set-up's references to the graph and sampler, and
        per-node caches), once training has ended; the saved state is kept. Default: nothing."""

    @torch.no_grad()
    def finalize(self, psi_all: torch.Tensor) -> torch.Tensor:
        """The exported embedding from the encoder's output on every node (default: unchanged)."""
        return psi_all

    def learned_eigenvalues(self) -> torch.Tensor:
        """Estimates of the eigenvalues of L_sym, one per column."""
        raise NotImplementedError
