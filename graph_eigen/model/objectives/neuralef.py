"""NeuralEF: ordered neural eigenfunctions with a stop-gradient objective, and Neural Eigenmap.

With columns normalized to unit mean square over the seeds and R the batch estimate of
Psi^T M Psi / n (M = K, or ((I + K) / 2)^p: same eigenvectors, wider gaps):

    ordered:  loss = sum_j [ -R_jj + sum_{i<j} (sg(psi_i)^T M psi_j)^2 / sg(R_ii) ]
    eigenmap: the weight 1 / R_ii becomes a constant alpha; the stop-gradient is optional.

Three estimators of the gradient on a batch:

- ``batch``: the loss above computed from the batch alone (normalized by the seeds' norms),
  as in the NeuralEF paper. On a fixed sparse graph it stalls: the normalization by the seeds'
  own norms rewards shrinking the seed rows against their (unnormalized) neighbors, and the
  cross terms R_ij are estimated from B seeds with noise far above the eigengaps.
- ``running``: the global statistics (column norms and R) are exponential moving
  averages over batches, without gradient, and each seed row receives the exact per-row
  NeuralEF direction  g_j - (psi_j^T g_j) psi_j  with  g_j = M psi_j - sum_{i<j} (R_ij / R_ii) M psi_i,
  i.e. g_j projected on the tangent space of the normalization (psi_j^T g_j = R_jj - sum_{i<j}
  R_ij^2 / R_ii, the column's own objective). Subtracting R_jj psi_j instead, as an Oja rule
  would, makes the collapsed state (every column equal to the first) a stable fixed point.
- ``bank``: as ``running``, but the statistics come from a memory bank H holding the
  latest output of every node (updated with each batch's seeds): R = H^T M H / n and the column
  norms over the whole graph, and the seeds' M psi as rows of M H, a product over all their
  neighbors with the neighbors' latest outputs. None of it has sampling noise, which the small
  eigengaps of real graphs require. With M = K the sums are updated exactly for the rows that
  changed (cost: the seeds' rows of K, as for a batch with all neighbors) and recomputed from
  scratch every ``bank_every`` steps against rounding drift; with a power of K they are
  recomputed every step (``power`` whole-graph products). Holding R fixed between
  recomputations instead (refreshing it every epoch) made the columns collapse.

A fourth, ``targets`` (the default of ``TrainConfig``), takes the NeuralEF step in function
space and regresses the encoder on it (neuralef_targets.py): the one that trains GNN encoders
to the eigenvectors of sparse graphs.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.sampling import Batch
from graph_eigen.model.objectives.base import Objective, ObjectiveContext

VARIANTS = ("ordered", "eigenmap")
ESTIMATORS = ("bank", "running", "batch")


class NeuralEF(Objective):
    """The NeuralEF objective; keeps running column norms and eigenvalue estimates (of K)."""

    estimators = ESTIMATORS  # the ones this class implements

    def __init__(self, dim: int, variant: str = "ordered", alpha: float = 0.3, stop_grad: bool = True,
                 momentum: float = 0.9, power: int = 1, estimator: str = "bank",
                 bank_every: int = 1000) -> None:
        super().__init__()
        if estimator not in self.estimators:
            raise ConfigError(f"unknown NeuralEF estimator '{estimator}'; choose bank, running, batch or targets")
        if variant not in VARIANTS:
            raise ConfigError(f"unknown NeuralEF variant '{variant}'; choose ordered or eigenmap")
        if power < 1:
            raise ConfigError(f"operator power must be >= 1, got {power}")
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum must lie in [0, 1), got {momentum}")
        self.variant, self.alpha, self.stop_grad = variant, alpha, stop_grad or variant == "ordered"
        self.momentum, self.power, self.estimator = momentum, power, estimator
        self.bank_every = max(int(bank_every), 1)
        self._kernel = None  # whole-graph K, scipy CSR (bank estimator)
        self._kernel_csr = None  # the same as a torch CSR tensor (whole-graph products)
        self.register_buffer("running_norm", torch.ones(dim))
        self.register_buffer("running_r", torch.zeros(dim, dim))
        self.register_buffer("eigenvalues", torch.zeros(dim))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    @property
    def needs_neighbors(self) -> bool:
        """The gradient estimators read the batch operator: the seeds' sampled neighbors."""
        return True

    def setup(self, graph, sampler, context: Optional[ObjectiveContext] = None) -> None:
        """The bank estimator keeps the whole-graph kernel and one output row per node."""
        super().setup(graph, sampler, context)
        if self.estimator != "bank":
            return
        self._load_kernel(graph)
        k = self.running_norm.numel()
        if "bank" not in self._buffers or self.bank.shape[0] != graph.num_nodes:
            self.register_buffer("bank", torch.zeros(graph.num_nodes, k))
            self.register_buffer("bank_filled", torch.zeros(graph.num_nodes, dtype=torch.bool))
            self.register_buffer("bank_step", torch.zeros((), dtype=torch.long))
            # exact running sums over the bank H: H^T M H, column sums of squares, filled rows
            self.register_buffer("bank_hmh", torch.zeros(k, k, dtype=torch.float64))
            self.register_buffer("bank_sumsq", torch.zeros(k, dtype=torch.float64))
            self.register_buffer("bank_count", torch.zeros((), dtype=torch.long))

    def _load_kernel(self, graph) -> None:
        """The whole-graph K as a float32 scipy CSR matrix (row slices); its torch twin is made lazily."""
        from graph_eigen.graph.operators import normalized_adjacency

        self._kernel = normalized_adjacency(graph).astype(np.float32)
        self._kernel_csr = None

    def _kernel_rows(self, ids: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """(K h)[ids]: the rows of the whole-graph kernel at ``ids`` times ``h``."""
        return torch.from_numpy(self._kernel[ids.cpu().numpy()] @ h.cpu().numpy()).to(h.device)

    def _kernel_product(self, h: torch.Tensor) -> torch.Tensor:
        """K h with the whole-graph kernel, in float32.

        torch's CSR product runs on all threads (1.6x scipy's on 2 cores at 1e5 nodes, K = 64,
        same result); the tensor shares the scipy kernel's arrays.
        """
        if self._kernel_csr is None:
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore")
                k = self._kernel
                self._kernel_csr = torch.sparse_csr_tensor(
                    torch.from_numpy(k.indptr), torch.from_numpy(k.indices), torch.from_numpy(k.data), size=k.shape)
        if self._kernel_csr.device != h.device:
            self._kernel_csr = self._kernel_csr.to(h.device)
        return self._kernel_csr @ h.float()

    def _whole_graph_operator(self, h: torch.Tensor) -> torch.Tensor:
        """M h with the whole-graph kernel: K h, or ((I + K) / 2)^p h, in float32."""
        out = h.float()
        for _ in range(self.power):
            kh = self._kernel_product(out)
            out = kh if self.power == 1 else kh.add_(out).mul_(0.5)  # in place: n x K floats
        return out

    @torch.no_grad()
    def bank_statistics(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Store the seeds' outputs in the bank H; (column norms, R, the seeds' rows of M H / norms).

        With M = K the sums H^T K H and |H_j|^2 are updated exactly for the rows that changed
        (cost: the seeds' rows of K), and recomputed from scratch every ``bank_every`` steps
        against rounding drift. With a power of K they are recomputed every step.
        """
        b = batch.num_seeds
        local = batch.n_id[:b]
        ids, rows = local, psi[:b].float()
        if self.context.distributed:  # every rank's bank receives the seeds of all ranks
            ids, rows = self.context.gather(ids), self.context.gather(rows)
        self.bank_step += 1
        full = self.power > 1 or int(self.bank_count) == 0 or int(self.bank_step) % self.bank_every == 0
        m_rows = None
        if not full:  # H' = H + E with E on the rows ids: H'^T K H' = H^T K H + E^T K H + H^T K E + E^T K E
            old = self.bank[ids]
            delta = (rows - old).double()
            cpu_ids = ids.cpu().numpy()  # scipy slices: this estimator computes on the CPU
            k_rows = self._kernel[cpu_ids]  # the seeds' rows of K, sliced once
            k_old = torch.from_numpy(k_rows @ self.bank.cpu().numpy()).double().to(ids.device)  # (K H)[ids]
            k_delta = torch.from_numpy(k_rows[:, cpu_ids] @ delta.cpu().numpy()).to(ids.device)  # (K E)[ids]
            cross = delta.T @ k_old
            self.bank_hmh += cross + cross.T + delta.T @ k_delta
            self.bank_sumsq += rows.double().pow(2).sum(0) - old.double().pow(2).sum(0)
            self.bank_count += int((~self.bank_filled[ids]).sum())
            if not self.context.distributed:  # one process: (K H')[seeds] = (K H)[ids] + (K E)[ids], no second product
                m_rows = (k_old + k_delta).float()
        self.bank[ids] = rows
        self.bank_filled[ids] = True
        if full:
            m_h = self._whole_graph_operator(self.bank)
            self.bank_hmh.copy_(self.bank.T @ m_h)  # k x k: no n x k double copies
            self.bank_sumsq.copy_((self.bank * self.bank).sum(0, dtype=torch.float64))
            self.bank_count.fill_(int(self.bank_filled.sum()))
            m_rows = m_h[local]
        count = max(int(self.bank_count), 1)
        norm = (self.bank_sumsq / count).add(1e-12).sqrt()
        r = (self.bank_hmh / (norm[:, None] * norm[None, :]) / count)
        if m_rows is None:
            m_rows = self._kernel_rows(local, self.bank)
        return norm.float(), ((r + r.T) / 2).float(), m_rows / norm.float()

    def apply_operator(self, batch: Batch, v: torch.Tensor) -> torch.Tensor:
        """M v on the batch rows: K (one hop, reweighted) or ((I + K) / 2)^p on a full graph."""
        if self.power > 1 and batch.num_seeds != batch.num_nodes:
            raise ConfigError("operator power > 1 needs the bank estimator or full-graph batches (batch size 0)")
        out = v
        for _ in range(self.power):
            kv = batch.kernel @ out
            out = kv if self.power == 1 else (out + kv) / 2
        return out

    def loss(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        if self.estimator in ("running", "bank"):
            return self._running_loss(batch, psi)
        return self._batch_loss(batch, psi)

    def _running_loss(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Surrogate whose gradient on the seed rows is the NeuralEF direction with running statistics."""
        b = batch.num_seeds
        n = self._global(psi.new_tensor(float(b)))  # seeds in the batch (of all ranks)
        bank_r = None
        if self.estimator == "bank" and self.training:
            norm, bank_r, bank_m_psi = self.bank_statistics(batch, psi.detach())
        else:
            with torch.no_grad():
                norm = (self._global(psi[:b].pow(2).sum(0)) / n).add(1e-12).sqrt()
                if bool(self.initialized) and self.training:
                    norm = self.momentum * self.running_norm + (1 - self.momentum) * norm
        psi_n = psi / norm
        with torch.no_grad():
            seeds = psi_n[:b].detach()
            if bank_r is not None:  # M psi over all neighbors, from the bank: no sampling noise
                m_psi, r = bank_m_psi, bank_r
            else:
                m_psi = self.apply_operator(batch, psi_n.detach())[:b]
                r_batch = self._global(seeds.T @ m_psi + m_psi.T @ seeds) / (2 * n)
                r = r_batch if not bool(self.initialized) else (
                    self.momentum * self.running_r + (1 - self.momentum) * r_batch)
            coef = self._coefficients(r)
            radial = r.diagonal() - (r * coef).sum(0)  # psi_j^T g_j (r symmetric)
            direction = m_psi - m_psi @ coef - seeds * radial
        surrogate = -self._global((psi_n[:b] * direction).sum()) / n
        if self.training:
            self.running_r.copy_(r)
        eig = self.to_kernel_eigenvalues(r.diagonal())
        self._update_running(norm, eig, smoothed=True)
        return surrogate, {"loss": float(self._loss_value(r)), "eig": eig.tolist()}

    def _coefficients(self, r: torch.Tensor) -> torch.Tensor:
        """A with column j = the weights of M psi_i (i != j) subtracted from M psi_j."""
        k = r.shape[0]
        if self.variant == "ordered":
            mask = torch.triu(torch.ones(k, k, dtype=torch.bool), diagonal=1)
            return torch.where(mask, r / r.diagonal().clamp_min(1e-3)[:, None], torch.zeros_like(r))
        mask = ~torch.eye(k, dtype=torch.bool) if not self.stop_grad else torch.triu(
            torch.ones(k, k, dtype=torch.bool), diagonal=1)
        return torch.where(mask, self.alpha * r, torch.zeros_like(r))

    def _loss_value(self, r: torch.Tensor) -> torch.Tensor:
        upper = torch.triu(torch.ones_like(r, dtype=torch.bool), diagonal=1)
        if self.variant == "ordered":
            penalty = (r.pow(2) / r.diagonal().clamp_min(1e-3)[:, None])[upper].sum()
        else:
            penalty = self.alpha * r.pow(2)[upper].sum()
        return -r.diagonal().sum() + penalty

    def _batch_loss(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        b = batch.num_seeds
        n = self._global(psi.new_tensor(float(b)))  # seeds in the batch (of all ranks)
        norm = (self._global(psi[:b].pow(2).sum(0)) / n).add(1e-12).sqrt()
        psi = psi / norm
        m_psi = self.apply_operator(batch, psi)[:b]
        seeds = psi[:b]
        r = self._global(seeds.T @ m_psi + m_psi.T @ seeds) / (2 * n)
        if self.stop_grad:
            m_sg = self.apply_operator(batch, psi.detach())[:b]
            cross = self._global(seeds.detach().T @ m_psi + m_sg.T @ seeds) / (2 * n)  # (sg psi_i)^T M psi_j
        else:
            cross = r
        upper = torch.triu(torch.ones_like(r, dtype=torch.bool), diagonal=1)
        if self.variant == "ordered":
            weight = 1.0 / r.diagonal().detach().clamp_min(1e-3)
            penalty = (cross.pow(2) * weight[:, None])[upper].sum()
        else:
            penalty = self.alpha * cross.pow(2)[upper].sum()
        loss = -r.diagonal().sum() + penalty
        eig = self.to_kernel_eigenvalues(r.diagonal().detach())
        self._update_running(norm.detach(), eig)
        return loss, {"loss": float(loss.detach()), "eig": eig.tolist()}

    def _global(self, t: torch.Tensor) -> torch.Tensor:
        """A sum over the batch's seeds, over all ranks in distributed training."""
        return self.context.reduce(t)

    def to_kernel_eigenvalues(self, mu: torch.Tensor) -> torch.Tensor:
        """Eigenvalues of M back to eigenvalues of K."""
        if self.power == 1:
            return mu
        return 2 * mu.clamp_min(0).pow(1.0 / self.power) - 1

    @torch.no_grad()
    def _update_running(self, norm: torch.Tensor, eig: torch.Tensor, smoothed: bool = False) -> None:
        """EMA of the column norms and eigenvalue estimates (``smoothed``: already averaged)."""
        if not self.training:
            return
        if not bool(self.initialized) or smoothed:
            self.running_norm.copy_(norm)
            self.eigenvalues.copy_(eig)
            self.initialized.fill_(True)
            return
        m = self.momentum
        self.running_norm.mul_(m).add_((1 - m) * norm)
        self.eigenvalues.mul_(m).add_((1 - m) * eig)

    @torch.no_grad()
    def finalize(self, psi_all: torch.Tensor) -> torch.Tensor:
        """The exported embedding: outputs divided by the running column norms."""
        return psi_all / self.running_norm.to(psi_all.device)

    def learned_eigenvalues(self) -> torch.Tensor:
        """Estimates of the eigenvalues of L_sym (= 1 - eigenvalues of K)."""
        return 1.0 - self.eigenvalues.cpu()
