"""Chebyshev filters of a normalized kernel K and the eigensolver built on them.

``chebyshev_filter(product, h, degree, cut)`` applies T_p(y(K)) to the columns of h, with
y = (2K + (1 - a) I) / (1 + a) mapping [-1, a] onto [-1, 1]: components with eigenvalues of K
in [-1, a] stay bounded by 1, those above a grow like cosh(p acosh y). The NeuralEF targets
estimator uses it for its refreshes; :func:`filtered_subspace_eigenpairs` (Chebyshev-filtered
subspace iteration with Rayleigh-Ritz, as in Zhou and Saad's ChFSI) for exact eigenpairs of
large graphs, where each step is ``degree`` sparse products of a thin block (torch's CSR
kernel, on every thread) and one small dense eigenproblem.
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import torch

log = logging.getLogger(__name__)


def chebyshev_filter(product: Callable[[torch.Tensor], torch.Tensor], h: torch.Tensor, degree: int,
                     cut: float) -> torch.Tensor:
    """T_degree(y(K)) h, rescaled every 8 terms (the recurrence is linear) against overflow.

    ``product(v)`` returns K v and may write into a new tensor; the recurrence updates in place.
    """
    scale_k, scale_v = 2 / (1 + cut), (1 - cut) / (1 + cut)

    def y_of(v: torch.Tensor) -> torch.Tensor:
        return product(v).mul_(scale_k).add_(v, alpha=scale_v)

    previous, current = h, y_of(h)
    for i in range(degree - 1):
        previous, current = current, y_of(current).mul_(2).sub_(previous)
        if i % 8 == 7:  # |y| <= 3, so 8 terms grow by at most 7^8: far from float32's limit
            scale = current.abs().max().clamp_min(1e-30)
            previous, current = previous / scale, current.div_(scale)
    return current


def filtered_subspace_eigenpairs(kernel, k: int, tol: float = 1e-6, seed: int = 0, extra: int = 0,
                                 degree: int = 12, maxiter: int = 100, device: str | torch.device = "cpu",
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenpairs of a normalized kernel K (scipy CSR, spectrum in [-1, 1]).

    A block of ``k + extra`` columns (``extra`` defaults to max(16, k / 2)) is filtered with a
    Chebyshev polynomial of ``degree`` that damps everything below its smallest Ritz value,
    orthonormalized, and rotated by Rayleigh-Ritz, until each of the first k Ritz pairs has a
    residual ||K x - theta x|| <= tol (unit x). Leading pairs that have converged are locked:
    they leave the block (later blocks are kept orthogonal to them), so the filter's products
    are spent on the pairs still moving. Products in float32, the rest in float64, so ``tol``
    much below 1e-6 is not reachable. Everything runs on ``device``. Returns (values descending,
    vectors) as numpy arrays.
    """
    from graph_eigen.graph.propagation import sparse_csr

    n = kernel.shape[0]
    m = min(n - 1, k + (extra or max(16, k // 2)))
    csr32 = sparse_csr(torch.from_numpy(kernel.indptr).long(), torch.from_numpy(kernel.indices).long(),
                       torch.from_numpy(kernel.data.astype(np.float32)), (n, n)).to(device)
    product = lambda v: csr32 @ v  # noqa: E731
    gen = torch.Generator().manual_seed(seed)
    x = torch.linalg.qr(torch.randn(n, m, generator=gen, dtype=torch.float64).to(device))[0]
    locked = x[:, :0]
    locked_theta = torch.zeros(0, dtype=torch.float64, device=x.device)
    cut, residual = 0.0, float("inf")
    for iteration in range(1, maxiter + 1):
        filtered = chebyshev_filter(product, x.float(), degree, cut).double()
        filtered -= locked @ (locked.T @ filtered)  # stay orthogonal to the locked pairs
        q = torch.linalg.qr(filtered)[0]
        del filtered
        kq = (csr32 @ q.float()).double()
        ritz = q.T @ kq
        theta, w = torch.linalg.eigh((ritz + ritz.T) / 2)
        theta, w = theta.flip(0), w.flip(1)
        x = q @ w
        wanted = k - locked.shape[1]
        residuals = ((kq @ w[:, :wanted]) - x[:, :wanted] * theta[:wanted]).norm(dim=0)
        del q, kq
        residual = float(residuals.max())
        converged = int(torch.cumprod(residuals <= tol, 0).sum())  # leading pairs within tol
        locked = torch.cat([locked, x[:, :converged]], dim=1)
        locked_theta = torch.cat([locked_theta, theta[:converged]])
        x, theta = x[:, converged:], theta[converged:]
        log.info("chebyshev subspace iteration %d: %d of %d pairs locked, largest residual %.2e",
                 iteration, locked.shape[1], k, residual)
        if locked.shape[1] >= k:
            break
        cut = float(theta[-1].clamp(-0.999, 0.999))  # damp everything below the block's smallest Ritz value
    else:
        log.warning("chebyshev subspace iteration: residual %.2e > tol %.0e after %d iterations",
                    residual, tol, maxiter)
        locked = torch.cat([locked, x[:, :k - locked.shape[1]]], dim=1)
        locked_theta = torch.cat([locked_theta, theta[:k - len(locked_theta)]])
    order = torch.argsort(locked_theta, descending=True)  # locking order is nearly, not exactly, sorted
    return locked_theta[order].cpu().numpy(), locked[:, order].cpu().numpy()
