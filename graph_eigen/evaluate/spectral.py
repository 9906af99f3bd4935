"""Spectral-quality metrics of a learned embedding against exact eigenvectors."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _orthonormal_basis(u: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(np.asarray(u, dtype=np.float64))
    return q


def subspace_distance(learned: np.ndarray, exact: np.ndarray) -> float:
    """d_G: the sum of squared sines of the principal angles between two column spans.

    Both are orthonormalized first (QR). A ``learned`` of more columns measures how much of the
    exact space it misses.

    Parameters
    ----------
    learned, exact : ndarray of shape (n, k_learned) and (n, k)
        The two bases, one row per node.

    Returns
    -------
    float
        In [0, k]: 0 when ``exact``'s span lies inside ``learned``'s, k when they are orthogonal.
    """
    if learned.shape[0] != exact.shape[0]:
        raise ValueError(f"row counts differ: {learned.shape[0]} vs {exact.shape[0]}")
    s = np.linalg.svd(_orthonormal_basis(learned).T @ _orthonormal_basis(exact), compute_uv=False)
    return float(exact.shape[1] - np.sum(np.clip(s, 0.0, 1.0) ** 2))


def grassmann_paper_formula(learned: np.ndarray, exact: np.ndarray) -> float:
    """The BASiS paper's "Grassmann distance": sum(1 - s_i^2), s the singular values of A^T B.

    A and B have their columns scaled to unit norm but are NOT orthonormalized, so this is not
    a distance: s_i can exceed 1 and the value can go negative when columns are correlated.
    Reported only for comparison with the paper; :func:`subspace_distance` is the true d_G.
    """
    if learned.shape[0] != exact.shape[0]:
        raise ValueError(f"row counts differ: {learned.shape[0]} vs {exact.shape[0]}")
    a, b = (np.asarray(m, dtype=np.float64) for m in (learned, exact))
    a = a / np.maximum(np.linalg.norm(a, axis=0), 1e-300)
    b = b / np.maximum(np.linalg.norm(b, axis=0), 1e-300)
    s = np.linalg.svd(a.T @ b, compute_uv=False)
    return float(np.sum(1.0 - s ** 2))


def orthogonality(u: np.ndarray) -> float:
    """d_perp = ||U^T U - I||_F after scaling every column to unit norm.

    Parameters
    ----------
    u : ndarray of shape (n, k)

    Returns
    -------
    float
        0 for orthogonal columns.
    """
    u = np.asarray(u, dtype=np.float64)
    u = u / np.maximum(np.linalg.norm(u, axis=0), 1e-300)
    return float(np.linalg.norm(u.T @ u - np.eye(u.shape[1])))


def rayleigh_quotients(u: np.ndarray, operator) -> np.ndarray:
    """diag(U^T M U) / diag(U^T U) for every column of U."""
    u = np.asarray(u, dtype=np.float64)
    mu = operator @ u if sp.issparse(operator) else np.asarray(operator) @ u
    return np.sum(u * mu, axis=0) / np.maximum(np.sum(u * u, axis=0), 1e-300)


def eigenvalue_error(learned: np.ndarray, exact: np.ndarray) -> dict:
    """Mean and max absolute error between sorted learned and exact eigenvalues."""
    a, b = np.sort(np.asarray(learned, float)), np.sort(np.asarray(exact, float))
    err = np.abs(a - b)
    return {"mean_abs": float(err.mean()), "max_abs": float(err.max())}
