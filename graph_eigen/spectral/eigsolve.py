"""Exact eigensolvers: the reference every learned embedding is judged against."""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.operators import inv_sqrt_degree, laplacian, normalized_adjacency

log = logging.getLogger(__name__)

DENSE_LIMIT = 3000  # below this many nodes a dense eigh is fastest and exact
LARGE_LIMIT = 200_000  # above this many nodes "auto" uses Chebyshev-filtered subspace iteration
LARGE_TOL = 1e-3  # its default residual tolerance (see docs/large_graphs.md)
METHODS = ("auto", "dense", "eigsh", "lobpcg", "amg", "chebyshev")


@dataclass
class Eigenpairs:
    """The k smallest eigenvalues of the chosen Laplacian (ascending) and their eigenvectors."""

    values: np.ndarray  # (k,)
    vectors: np.ndarray  # (n, k), column j <-> values[j]
    method: str
    residual: Optional[float] = None  # max_j ||L v_j - values[j] v_j|| (sym Laplacian; None otherwise)


def check_dim(k: int, n: int) -> None:
    """Refuse an embedding dimension that the graph cannot have."""
    if not isinstance(k, (int, np.integer)) or k <= 0:
        raise ConfigError(f"embedding dimension K must be a positive integer, got {k!r}")
    if k >= n:
        raise ConfigError(f"embedding dimension K={k} must be smaller than the number of nodes ({n})")


def sign_flip(vectors: np.ndarray) -> np.ndarray:
    """Deterministic signs: the largest-magnitude entry of every column is made positive."""
    idx = np.abs(vectors).argmax(axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    signs[signs == 0] = 1.0
    return vectors * signs


def top_eigenpairs(matrix, k: int, method: str = "auto", seed: int = 0, tol: float = 0.0, device: str = "cpu"):
    """The k largest eigenpairs of a symmetric matrix, in descending order of eigenvalue.

    ``amg`` and ``chebyshev`` are for normalized kernels K only (spectrum in [-1, 1]): LOBPCG on
    I - K with a smoothed-aggregation AMG preconditioner (pyamg), as scikit-learn's ``amg``
    solver does, or Chebyshev-filtered subspace iteration (chebyshev.py), the faster of the two
    on a million-node graph. ``tol`` is the solver's residual tolerance (0: eigsh to machine
    precision, 1e-8 LOBPCG, 1e-6 amg, ``LARGE_TOL`` chebyshev). ``device`` applies to
    ``chebyshev`` (torch); the scipy solvers run on the CPU. ``auto`` picks by size
    (:func:`solver_for`): above ``LARGE_LIMIT`` rows that is ``chebyshev``, so the matrix must
    then be a normalized kernel.
    """
    n = matrix.shape[0]
    check_dim(k, n)
    method = solver_for(n, method)
    if method == "dense":
        dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
        vals, vecs = scipy.linalg.eigh(dense, subset_by_index=[n - k, n - 1])
    elif method == "eigsh":
        v0 = np.random.default_rng(seed).standard_normal(n)
        ncv = min(n, max(2 * k + 1, 64))
        vals, vecs = spla.eigsh(matrix, k=k, which="LA", v0=v0, ncv=ncv, tol=tol)
    elif method == "lobpcg":
        x0 = np.random.default_rng(seed).standard_normal((n, k))
        vals, vecs = spla.lobpcg(matrix, x0, largest=True, tol=tol or 1e-8, maxiter=2000)
    elif method == "amg":
        vals, vecs = _amg_lobpcg(matrix, k, seed, tol or 1e-6)
    elif method == "chebyshev":
        from graph_eigen.spectral.chebyshev import filtered_subspace_eigenpairs

        vals, vecs = filtered_subspace_eigenpairs(matrix, k, tol=tol or LARGE_TOL, seed=seed, device=device)
    else:
        raise ConfigError(f"unknown eigensolver '{method}'; choose {', '.join(METHODS)}")
    order = np.argsort(-vals)
    return vals[order], vecs[:, order], method


def _amg_lobpcg(kernel, k: int, seed: int, tol: float, maxiter: int = 500):
    """Top-k eigenpairs of a normalized kernel K: LOBPCG on L = I - K with an AMG preconditioner."""
    try:
        from pyamg import smoothed_aggregation_solver
    except ImportError as exc:  # pragma: no cover - pyamg is a dependency
        raise ConfigError("the 'amg' eigensolver needs pyamg: pip install pyamg") from exc
    n = kernel.shape[0]
    lap = (sp.identity(n, format="csr", dtype=np.float64) - kernel).tocsr()
    shifted = (lap + 1e-5 * sp.identity(n, format="csr")).tocsr()  # L is singular: AMG wants it definite
    preconditioner = smoothed_aggregation_solver(shifted).aspreconditioner()
    x0 = np.random.default_rng(seed).standard_normal((n, k))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not reaching the requested tolerance.*")
        vals, vecs = spla.lobpcg(lap, x0, M=preconditioner, largest=False, tol=tol, maxiter=maxiter)
    return 1.0 - vals, vecs


def solver_for(n: int, method: str = "auto") -> str:
    """The solver ``auto`` picks for a matrix of ``n`` rows (``method`` itself when not auto)."""
    if method != "auto":
        return method
    return "dense" if n <= DENSE_LIMIT else "eigsh" if n <= LARGE_LIMIT else "chebyshev"


def exact_eigenpairs(
    graph: Graph,
    k: int,
    laplacian_kind: str = "sym",
    method: str = "auto",
    drop_first: bool = False,
    seed: int = 0,
    tol: float = 0.0,
    device: str = "cpu",
) -> Eigenpairs:
    """The k eigenvectors of the chosen Laplacian with the smallest eigenvalues.

    For ``sym`` and ``rw`` these are the top eigenvectors of K = D^-1/2 A D^-1/2 (the random-walk
    ones are D^-1/2 times them). Signs follow :func:`sign_flip`, so the result is the same on
    every run.

    Parameters
    ----------
    graph : Graph
        The graph (with its edge weights and self-loops).
    k : int
        Number of eigenpairs.
    laplacian_kind : {"sym", "rw", "unnormalized"}, default "sym"
        Which Laplacian.
    method : {"auto", "dense", "eigsh", "lobpcg", "amg", "chebyshev"}, default "auto"
        ``auto`` picks the solver by size (:func:`solver_for`) with its default tolerance and
        reads the disk cache (spectral/cache.py); every solve at the default tolerance is
        written to it.
    drop_first : bool, default False
        Remove the trivial eigenvector.
    seed : int, default 0
        Seed of the iterative solvers' start.
    tol : float, default 0.0
        The solver's residual tolerance (0: its default).
    device : str, default "cpu"
        Where the ``chebyshev`` solver runs.

    Returns
    -------
    Eigenpairs
        ``values`` (k,), ascending; ``vectors`` (n, k); the ``method`` used and the largest
        relative ``residual``.

    Raises
    ------
    ConfigError
        When k does not fit the graph, or an iterative solver did not converge.
    """
    from graph_eigen.spectral import cache as eigen_cache

    extra = 1 if drop_first else 0
    check_dim(k + extra, graph.num_nodes)
    if method in ("amg", "chebyshev") and laplacian_kind == "unnormalized":
        raise ConfigError(f"the '{method}' eigensolver handles the normalized Laplacians (sym, rw) only")
    path = eigen_cache.cache_path(graph, k, laplacian_kind, drop_first) if not tol else None
    cached = eigen_cache.load_cached(path) if method == "auto" else None  # an explicit solver always solves
    if cached is not None:
        log.info("exact eigenpairs from the cache: %s", path)
        residual = residual_norm(graph, cached[0], cached[1]) if laplacian_kind == "sym" else None
        return Eigenpairs(values=cached[0], vectors=cached[1], method=cached[2], residual=residual)
    if laplacian_kind in ("sym", "rw"):
        mu, vecs, used = top_eigenpairs(normalized_adjacency(graph), k + extra, method, seed, tol, device)
        values = 1.0 - mu
        if laplacian_kind == "rw":
            vecs = vecs * inv_sqrt_degree(graph)[:, None]
            vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=0), 1e-300)
    else:
        lap = laplacian(graph, laplacian_kind)
        shift = 2.0 * float(graph.degree.max())  # spectrum of L lies in [0, 2 * max degree]
        flipped = sp.identity(graph.num_nodes, format="csr") * shift - lap
        mu, vecs, used = top_eigenpairs(flipped, k + extra, "eigsh" if method == "auto" and
                                        graph.num_nodes > DENSE_LIMIT else method, seed)
        values = shift - mu
    values, vecs = values[extra:], sign_flip(vecs[:, extra:])
    residual = check_converged(graph, values, vecs, used, tol) if laplacian_kind == "sym" else None
    eigen_cache.store(path, values, vecs, used)
    return Eigenpairs(values=values, vectors=vecs, method=used, residual=residual)


def residual_norm(graph: Graph, values: np.ndarray, vectors: np.ndarray) -> float:
    """max_j ||K v_j - (1 - values[j]) v_j|| / ||v_j||: how far the pairs are from L_sym's."""
    kernel = normalized_adjacency(graph)
    r = kernel @ vectors - vectors * (1.0 - values)[None, :]
    return float((np.linalg.norm(r, axis=0) / np.maximum(np.linalg.norm(vectors, axis=0), 1e-300)).max())


def check_converged(graph: Graph, values: np.ndarray, vectors: np.ndarray, method: str, tol: float) -> float:
    """The pairs' residual; an iterative solver's result off by more than ten times its tolerance
    is refused (its vectors would become BASiS targets or the reference of d_G)."""
    residual = residual_norm(graph, values, vectors)
    limit = 10 * (tol or {"chebyshev": LARGE_TOL, "amg": 1e-6}.get(method, 1e-6))
    if method in ("chebyshev", "amg", "lobpcg") and residual > limit:
        raise ConfigError(f"the {method} eigensolver did not converge: residual {residual:.2e} above {limit:.0e}; "
                          f"try another method (eigsh, amg) or a larger tolerance")
    return residual
