"""NeuralEF: ordered neural eigenfunctions with a stop-gradient objective, and Neural Eigenmap.

With columns normalized to unit mean square over the seeds and R the batch estimate of
Psi^T M Psi / n (M = K, or ((I + K) / 2)^p in full-graph mode, same eigenvectors, wider gaps):

    ordered:  loss = sum_j [ -R_jj + sum_{i<j} (sg(psi_i)^T M psi_j)^2 / sg(R_ii) ]
    eigenmap: the weight 1 / R_ii becomes a constant alpha; the stop-gradient is optional.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from ..sampling import Batch

VARIANTS = ("ordered", "eigenmap")


class NeuralEF(nn.Module):
    """The NeuralEF objective; keeps running column norms and eigenvalue estimates (of K)."""

    def __init__(self, dim: int, variant: str = "ordered", alpha: float = 0.3, stop_grad: bool = True,
                 momentum: float = 0.9, power: int = 1) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ConfigError(f"unknown NeuralEF variant '{variant}'; choose ordered or eigenmap")
        if power < 1:
            raise ConfigError(f"operator power must be >= 1, got {power}")
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum must lie in [0, 1), got {momentum}")
        self.variant, self.alpha, self.stop_grad = variant, alpha, stop_grad or variant == "ordered"
        self.momentum, self.power = momentum, power
        self.register_buffer("running_norm", torch.ones(dim))
        self.register_buffer("eigenvalues", torch.zeros(dim))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    def anchor_nodes(self, graph) -> None:
        """NeuralEF needs no anchors."""
        return None

    def setup(self, graph, sampler) -> None:
        """Nothing to prepare before the first step."""

    def apply_operator(self, batch: Batch, v: torch.Tensor) -> torch.Tensor:
        """M v on the batch rows: K (one hop, reweighted) or ((I + K) / 2)^p on a full graph."""
        if self.power > 1 and batch.num_seeds != batch.num_nodes:
            raise ConfigError("operator power > 1 needs full-graph batches (batch size 0)")
        src, dst = batch.op_index
        out = v
        for _ in range(self.power):
            kv = torch.zeros_like(out).index_add_(0, src, out[dst] * batch.op_weight[:, None])
            out = kv if self.power == 1 else (out + kv) / 2
        return out

    def loss(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        b = batch.num_seeds
        norm = psi[:b].pow(2).mean(0).add(1e-12).sqrt()
        psi = psi / norm
        m_psi = self.apply_operator(batch, psi)[:b]
        seeds = psi[:b]
        r = (seeds.T @ m_psi + m_psi.T @ seeds) / (2 * b)
        if self.stop_grad:
            m_sg = self.apply_operator(batch, psi.detach())[:b]
            cross = (seeds.detach().T @ m_psi + m_sg.T @ seeds) / (2 * b)  # (sg psi_i)^T M psi_j
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
        return loss, {"loss": float(loss), "eig": eig.tolist()}

    def to_kernel_eigenvalues(self, mu: torch.Tensor) -> torch.Tensor:
        """Eigenvalues of M back to eigenvalues of K."""
        if self.power == 1:
            return mu
        return 2 * mu.clamp_min(0).pow(1.0 / self.power) - 1

    @torch.no_grad()
    def _update_running(self, norm: torch.Tensor, eig: torch.Tensor) -> None:
        if not self.training:
            return
        if not bool(self.initialized):
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
        return psi_all / self.running_norm

    def learned_eigenvalues(self) -> torch.Tensor:
        """Estimates of the eigenvalues of L_sym (= 1 - eigenvalues of K)."""
        return 1.0 - self.eigenvalues
