"""NeuralEF with bootstrapped targets: the NeuralEF step taken in function space.

The gradient estimators of neuralef.py move the encoder by small optimizer steps along the
NeuralEF direction. Through the shared weights of a GNN that is far too slow on a sparse graph
(docs/neuralef.md: d_G 7-8 on CS, K = 9, after 100 epochs of sage). This estimator takes the step in
function space and lets the encoder catch up by regression. A bank H holds the latest output of
every node (the seeds' rows are stored at every step). Every ``target_every`` steps the targets
are recomputed over the whole graph:

    T = sqrt(n) * Q,   Q R = M H (QR factorization, columns in order),

with M a polynomial of K with the same eigenvectors and the same order at the top (``filter``):
a Chebyshev filter of degree p (default, p = 64) or ((I + K) / 2)^p (p = 256). Each column's sign
is chosen to agree with H; in between, the encoder regresses its seeds' outputs onto their rows
of T (mean squared error).

Why this is the NeuralEF step. With H's columns normalized and R = H^T M H / n, the NeuralEF
direction of column j is g_j = M h_j - sum_{i<j} (R_ij / R_ii) M h_i - c_j h_j, where c_j is the
column's own objective. The step h_j + g_j / c_j is (M H)(I - C) / c_j with C strictly upper
triangular, and such a product has the same column-ordered QR factor Q as M H. The stop-gradient
order of the objective is the column order of the factorization. Its fixed points are the
ordered eigenvectors of M (those of K). The orthonormalization keeps the columns from collapsing
onto the first one: regressing on the step without it did (docs/neuralef.md).

Where H comes from (``source``):

- ``bank`` (default): the seeds' outputs of every step. The first targets are a step from a
  seeded random H; the bank then fills with the encoder's outputs as the seeds come by. No
  extra pass over the graph.
- ``inference``: every refresh replaces H by the encoder's layer-wise full-neighborhood output
  on the whole graph (the export's). One inference pass per refresh; needed when the seeds
  cover only some nodes (--seed-nodes), since the bank would never hold the others.

Convergence is that of subspace iteration: per refresh the span error shrinks by the ratio of
M's (k+1)-th to k-th eigenvalue, down to the floor set by how well the encoder fits T.
"""
from __future__ import annotations

import math
from typing import Optional

import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.sampling import Batch
from graph_eigen.model.objectives.base import Objective, ObjectiveContext
from graph_eigen.model.objectives.neuralef import NeuralEF
from graph_eigen.spectral.chebyshev import chebyshev_filter

SOURCES = ("bank", "inference")
FILTERS = {"chebyshev": 64, "power": 256}  # filter -> default number of products per refresh


class NeuralEFTargets(NeuralEF):
    """NeuralEF by regression onto the ordered, orthonormalized filtered step M H of a bank H."""

    estimators = ("targets",)

    def __init__(self, dim: int, power: Optional[int] = None, target_every: int = 0, source: str = "bank",
                 filter: str = "chebyshev", seed: int = 0, estimator: str = "targets", **params) -> None:
        if filter not in FILTERS:
            raise ConfigError(f"unknown target filter '{filter}'; choose {' or '.join(FILTERS)}")
        super().__init__(dim, power=FILTERS[filter] if power is None else power, estimator=estimator, **params)
        self.filter = filter
        if self.variant != "ordered":
            raise ConfigError("the targets estimator trains the ordered variant only (`variant` ordered)")
        if target_every < 0:
            raise ConfigError(f"`target_every` must be >= 0 steps (0 = once per epoch), got {target_every}")
        if source not in SOURCES:
            raise ConfigError(f"unknown target source '{source}'; choose {' or '.join(SOURCES)}")
        self.target_every, self.source, self.seed = int(target_every), source, seed

    @property
    def needs_neighbors(self) -> bool:
        """Targets come from whole-graph products: a batch needs its seeds only."""
        return False

    def setup(self, graph, sampler, context: Optional[ObjectiveContext] = None) -> None:
        """The whole-graph kernel, a seeded random bank and room for the targets; with
        ``source="inference"`` the context's ``embed_all`` refreshes the bank."""
        Objective.setup(self, graph, sampler, context)
        self._load_kernel(graph)
        if self.target_every == 0:
            self.target_every = sampler.steps_per_epoch
        k = self.running_norm.numel()
        if "bank" not in self._buffers or self.bank.shape[0] != graph.num_nodes:
            gen = torch.Generator().manual_seed(self.seed)
            self.register_buffer("bank", torch.randn(graph.num_nodes, k, generator=gen))
            self.register_buffer("targets", torch.zeros(graph.num_nodes, k))
            self.register_buffer("bank_step", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def refresh_targets(self) -> None:
        """T from the bank: the ordered orthonormalization of M H, signs agreeing with H."""
        if self.source == "inference":
            if self.context.embed_all is None:
                raise ConfigError("target source 'inference' needs an embed_all hook in the objective's context "
                                  "(the training loop passes one)")
            self.bank.copy_(self.context.embed_all())
        h = self.bank
        k_h = self._kernel_product(h)  # float32 products, float64 sums: no n x K double copies
        rayleigh = (h * k_h).sum(0, dtype=torch.float64) / h.pow(2).sum(0, dtype=torch.float64).clamp_min(1e-300)
        del k_h
        if self.filter == "power":
            m_h = self._whole_graph_operator(self.bank).double()  # products in float32, as the kernel
        else:
            basis = self.targets if bool(self.initialized) else self.bank
            m_h = self._chebyshev(self.bank, self._damped_below(basis)).double()
        q = torch.linalg.qr(m_h)[0]
        del m_h
        sign = torch.sign((q * h).sum(0))
        sign[sign == 0] = 1.0
        self.targets.copy_(q.mul_(sign * math.sqrt(h.shape[0])))
        self.running_norm.copy_(self.bank.pow(2).mean(0).add(1e-12).sqrt())
        self.eigenvalues.copy_(rayleigh.float())
        self.initialized.fill_(True)

    def _damped_below(self, basis: torch.Tensor) -> float:
        """The Chebyshev filter's cut a, below the k-th eigenvalue of K.

        The smallest Ritz value theta of K on span(basis) is <= lambda_k (Cauchy interlacing),
        and a = theta - (1 - theta) keeps a margin as wide as theta's distance to 1, so that
        lambda_{k+1} is amplified too while the basis is far from converged, and damped once
        theta is close to lambda_k. Clamped to [0, 0.999]. The basis is the previous targets
        (filtered, so cleaner than the bank, whose fitting noise lowers theta), or the bank
        before the first refresh.
        """
        q, _ = torch.linalg.qr(basis.double())
        ritz = q.T @ self._kernel_product(q).double()
        theta = float(torch.linalg.eigvalsh((ritz + ritz.T) / 2)[0])
        return min(max(2 * theta - 1, 0.0), 0.999)

    def _chebyshev(self, h: torch.Tensor, a: float) -> torch.Tensor:
        """T_p(y(K)) h, damping the eigenvalues of K in [-1, a] (chebyshev.py)."""
        return chebyshev_filter(self._kernel_product, h.float(), self.power, a)

    def loss(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Mean squared distance of the seeds' outputs to their targets (summed over columns)."""
        b = batch.num_seeds
        ids, rows = batch.n_id[:b], psi[:b]
        if self.training:
            if int(self.bank_step) % self.target_every == 0:
                self.refresh_targets()
            self.bank_step += 1
            stored_ids, stored = ids, rows.detach().float()
            if self.context.distributed:  # every rank's bank receives the seeds of all ranks
                stored_ids, stored = self.context.gather(stored_ids), self.context.gather(stored)
            self.bank[stored_ids] = stored
        n = self._global(psi.new_tensor(float(b)))
        loss = self._global((rows - self.targets[ids]).pow(2).sum()) / n
        return loss, {"loss": float(loss.detach()), "eig": self.eigenvalues.tolist()}
