"""Affine alignment of batch eigenvectors to a reference through anchor rows (BASiS step 3)."""
from __future__ import annotations

import numpy as np

from graph_eigen.errors import ConfigError


def fit_affine(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """T (k_out x (k+1)) minimizing sum_rows ||target - T [source, 1]||^2 (least squares)."""
    design = np.hstack([source, np.ones((source.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution.T


def apply_affine(transform: np.ndarray, source: np.ndarray) -> np.ndarray:
    return source @ transform[:, :-1].T + transform[:, -1]


def fit_affine_ransac(source: np.ndarray, target: np.ndarray, draws: int = 100, sample: int = 20,
                      threshold: float = 0.1, seed: int = 0, column_scale: float = 1.0) -> np.ndarray:
    """RANSAC around :func:`fit_affine`, with the original BASiS defaults (100 draws of 20 anchors).

    Each draw fits ``sample`` random rows; a row is an inlier when the L2 norm of its residual is
    below ``threshold * column_scale``. ``column_scale`` is the factor by which ``target``'s
    columns were scaled from unit norm (BASiS's targets: sqrt of the rows of the batch that
    the reference came from), so ``threshold`` is the original's absolute threshold on unit-norm
    eigenvectors (0.1 there). The transform is refit on the largest inlier set; with fewer
    inliers than columns + 1 it falls back to least squares on every row.
    """
    if not threshold > 0:
        raise ConfigError(f"RANSAC threshold must be positive, got {threshold}")
    if not column_scale > 0:
        raise ConfigError(f"RANSAC column scale must be positive, got {column_scale}")
    rng = np.random.default_rng(seed)
    n = source.shape[0]
    sample = min(max(sample, source.shape[1] + 1), n)
    best = None
    for _ in range(draws):
        rows = rng.choice(n, size=sample, replace=False)
        t = fit_affine(source[rows], target[rows])
        residual = np.linalg.norm(apply_affine(t, source) - target, axis=1)
        inliers = residual < threshold * column_scale
        if best is None or inliers.sum() > best.sum():
            best = inliers
    if best is None or best.sum() < source.shape[1] + 1:
        return fit_affine(source, target)
    return fit_affine(source[best], target[best])
