"""The eigenmap restricted to functions of the node features: Rayleigh-Ritz on a feature span.

Given the kernel K = D^-1/2 A D^-1/2 of an operator and a feature matrix Z (n x m; for the
``sign`` encoder, the projected features propagated over the operator, [X, A_hat X, A_hat^2 X]),
find the K columns of span(Z) that K maps most onto themselves:

    maximize tr(C^T Z^T K Z C)  subject to  C^T Z^T Z C = I,

a generalized symmetric eigenproblem of size m (Z^T K Z c = mu Z^T Z c). The embedding is Z C,
and the map C embeds any node from its feature row: new nodes too, with no solve. This is the
optimum that an encoder linear in Z can reach under the eigen-objective (what NeuralEF or
BASiS would train a linear ``sign`` encoder towards), found in closed form with one sparse
product of K by Z and two m x m eigendecompositions.

Why not the exact eigenvectors of K: on a large real graph, or one tiled from copies, the low
spectrum of K is crowded with functions that mark weakly joined parts (or copies) and carry no
label signal; they are not functions of the features, so the span excludes them. Measured
(docs/large_graphs.md): on CS tiled to 256,662 nodes, the exact eigenmap of the attributed
operator (K = 48) probes at 85.63 % where this one probes at 94.36 % and SGC at 93.56 %; on
the five small graphs of docs/quality.md the two are within 0.61 point.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from graph_eigen.errors import ConfigError

CHUNK = 1 << 16  # rows per block of the Gram products (bounds float64 temporaries)
PRODUCT_ELEMENTS = 1 << 27  # float32 entries of K Z held at once (512 MB)
RANK_TOL = 1e-9  # Gram eigenvalues below this fraction of the largest are dropped (dependent columns)


@dataclass
class FeatureSpanEigenpairs:
    """L_sym eigenvalues (ascending) of the span's K columns, the embedding Z C, and C."""

    values: np.ndarray  # (k,)
    vectors: np.ndarray  # (n, k) float32, orthonormal columns
    coefficients: np.ndarray  # (m, k) float64: row z of a node -> its embedding z C


def feature_span_eigenpairs(kernel: sp.spmatrix, features: np.ndarray, k: int,
                            with_constant: bool = True) -> FeatureSpanEigenpairs:
    """The top-``k`` Ritz pairs of the normalized kernel ``kernel`` on span(``features``).

    ``with_constant`` adds a column of ones to the span (an encoder has biases). Columns that
    depend on others are dropped; ``k`` must not exceed the rank that is left.
    """
    z = np.asarray(features, dtype=np.float32)
    n = z.shape[0]
    if kernel.shape != (n, n):
        raise ConfigError(f"the kernel is {kernel.shape} but the features have {n} rows")
    gram, cross = _grams(z, sp.csr_matrix(kernel, dtype=np.float32), with_constant)
    scale, basis = np.linalg.eigh(gram)
    keep = scale > RANK_TOL * scale.max()
    if k > int(keep.sum()):
        raise ConfigError(f"`dim` ({k}) exceeds the rank of the feature span ({int(keep.sum())} "
                          f"independent columns): choose a smaller `dim`")
    whiten = basis[:, keep] / np.sqrt(scale[keep])  # Z whiten has orthonormal columns
    reduced = whiten.T @ cross @ whiten
    mu, rotation = np.linalg.eigh((reduced + reduced.T) / 2)
    top = np.argsort(-mu)[:k]
    coefficients = whiten @ rotation[:, top]
    vectors = _rows_times(z, coefficients, with_constant)
    return FeatureSpanEigenpairs(values=1.0 - mu[top], vectors=vectors, coefficients=coefficients)


def least_squares_coefficients(features: np.ndarray, targets: np.ndarray, with_constant: bool = True) -> np.ndarray:
    """W minimizing ||[Z, 1] W - T|| (m + 1 x k, float64; the last row is the bias when
    ``with_constant``): the weights a linear encoder would converge to when regressed onto
    ``targets``, from float64 Grams accumulated by blocks (no n-row copy). Columns of Z that
    depend on others get the minimum-norm solution."""
    z = np.asarray(features, dtype=np.float32)
    n, m = z.shape
    width = m + int(with_constant)
    gram, right = np.zeros((width, width)), np.zeros((width, targets.shape[1]))
    for start in range(0, n, CHUNK):
        block = _block(z, start, start + CHUNK, with_constant)
        gram += block.T @ block
        right += block.T @ targets[start:start + CHUNK].astype(np.float64)
    scale, basis = np.linalg.eigh(gram)
    keep = scale > RANK_TOL * scale.max()
    return basis[:, keep] @ ((basis[:, keep].T @ right) / scale[keep, None])


def _block(z: np.ndarray, start: int, stop: int, with_constant: bool) -> np.ndarray:
    """Rows ``start:stop`` of Z (with the column of ones) in float64."""
    block = z[start:stop].astype(np.float64)
    return np.hstack([block, np.ones((len(block), 1))]) if with_constant else block


def _grams(z: np.ndarray, kernel: sp.csr_matrix, with_constant: bool) -> tuple[np.ndarray, np.ndarray]:
    """Z^T Z and Z^T K Z (Z with the column of ones), accumulated in float64 by blocks: no
    n-row copy of Z is made, and K Z is held a few hundred MB of columns at a time."""
    n, m = z.shape
    width = m + int(with_constant)
    gram, cross = np.zeros((width, width)), np.zeros((width, width))
    for start in range(0, n, CHUNK):
        block = _block(z, start, start + CHUNK, with_constant)
        gram += block.T @ block
    step = max(1, PRODUCT_ELEMENTS // n)  # columns per sparse product
    for first in range(0, width, step):
        last = min(first + step, width)
        product = np.empty((n, last - first), dtype=np.float32)  # K times columns first:last of [Z, 1]
        data_cols = min(last, m) - first
        if data_cols > 0:
            product[:, :data_cols] = kernel @ z[:, first:first + data_cols]
        if last > m:  # the column of ones
            product[:, -1] = kernel @ np.ones(n, dtype=np.float32)
        for start in range(0, n, CHUNK):
            cross[:, first:last] += _block(z, start, start + CHUNK, with_constant).T @ \
                product[start:start + CHUNK].astype(np.float64)
    return gram, cross


def _rows_times(z: np.ndarray, coefficients: np.ndarray, with_constant: bool) -> np.ndarray:
    """[Z, 1] C as float32, by blocks of rows."""
    out = np.empty((z.shape[0], coefficients.shape[1]), dtype=np.float32)
    for start in range(0, z.shape[0], CHUNK):
        out[start:start + CHUNK] = _block(z, start, start + CHUNK, with_constant) @ coefficients
    return out
