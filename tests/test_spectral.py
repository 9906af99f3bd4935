"""Operators, the exact eigensolver and the spectral metrics."""
import numpy as np
import pytest
import scipy.linalg
import torch

from graph_eigen.errors import ConfigError
from graph_eigen.evaluate.cluster import clustering_accuracy
from graph_eigen.evaluate.spectral import orthogonality, rayleigh_quotients, subspace_distance
from graph_eigen.graph.core import Graph
from graph_eigen.graph.operators import laplacian, normalized_adjacency
from graph_eigen.spectral.eigsolve import exact_eigenpairs, sign_flip


def ring_of_cliques(cliques=4, size=6):
    edges = []
    for c in range(cliques):
        base = c * size
        edges += [(base + i, base + j) for i in range(size) for j in range(i + 1, size)]
        edges.append((base, ((c + 1) % cliques) * size + 1))
    return Graph.from_edges(torch.tensor(edges).T)


def test_laplacians_share_spectrum_and_annihilate_constants():
    g = ring_of_cliques()
    sym, rw, unn = (laplacian(g, k).toarray() for k in ("sym", "rw", "unnormalized"))
    assert np.allclose(np.sort(np.linalg.eigvals(rw).real), np.linalg.eigvalsh(sym), atol=1e-8)
    assert np.allclose(unn @ np.ones(g.num_nodes), 0)
    d = g.degree.numpy()
    assert np.allclose(sym @ np.sqrt(d), 0)
    assert np.allclose(normalized_adjacency(g).toarray(), np.eye(g.num_nodes) - sym)


@pytest.mark.parametrize("method", ["dense", "eigsh", "lobpcg"])
def test_exact_solver_matches_dense_reference(method):
    g = ring_of_cliques(6, 8)
    pairs = exact_eigenpairs(g, 5, method=method)
    ref_vals, ref_vecs = scipy.linalg.eigh(laplacian(g).toarray())
    assert np.allclose(pairs.values, ref_vals[:5], atol=1e-6)
    assert subspace_distance(pairs.vectors, ref_vecs[:, :5]) < 1e-6


def test_unnormalized_and_rw_laplacians():
    g = ring_of_cliques()
    vals = exact_eigenpairs(g, 3, laplacian_kind="unnormalized").values
    assert np.allclose(vals, np.linalg.eigvalsh(laplacian(g, "unnormalized").toarray())[:3], atol=1e-8)
    rw = exact_eigenpairs(g, 3, laplacian_kind="rw")
    lrw = laplacian(g, "rw").toarray()
    assert np.allclose(lrw @ rw.vectors, rw.vectors * rw.values, atol=1e-8)


def test_disconnected_graph_has_one_zero_eigenvalue_per_component():
    edges = torch.tensor([[0, 1, 3, 4], [1, 2, 4, 5]])
    pairs = exact_eigenpairs(Graph.from_edges(edges), 3)
    assert np.allclose(pairs.values[:2], 0, atol=1e-10) and pairs.values[2] > 0.1


def test_drop_first_and_deterministic_signs():
    g = ring_of_cliques()
    full = exact_eigenpairs(g, 4)
    dropped = exact_eigenpairs(g, 3, drop_first=True)
    assert np.allclose(dropped.values, full.values[1:])
    again = exact_eigenpairs(g, 4)
    assert np.array_equal(full.vectors, again.vectors)
    v = sign_flip(-full.vectors)
    assert np.all(v[np.abs(v).argmax(0), np.arange(4)] > 0)


@pytest.mark.parametrize("k", [0, -2, 24, 30])
def test_solver_refuses_bad_dimension(k):
    with pytest.raises(ConfigError, match="dimension K"):
        exact_eigenpairs(ring_of_cliques(), k)


def test_subspace_distance_properties():
    rng = np.random.default_rng(0)
    u = rng.standard_normal((50, 4))
    assert subspace_distance(u, u @ rng.standard_normal((4, 4))) < 1e-10  # same span
    q, _ = np.linalg.qr(rng.standard_normal((50, 8)))
    assert abs(subspace_distance(q[:, :4], q[:, 4:]) - 4.0) < 1e-10  # orthogonal spans
    assert subspace_distance(q[:, :6], q[:, :4]) < 1e-10  # contained in a larger learned space


def test_orthogonality_and_rayleigh():
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((30, 3)))
    assert orthogonality(q * [1.0, 5.0, 0.1]) < 1e-10
    assert orthogonality(np.ones((30, 2))) == pytest.approx(np.sqrt(2))
    m = np.diag(np.arange(30.0))
    assert np.allclose(rayleigh_quotients(np.eye(30)[:, [2, 7]] * 3.0, m), [2.0, 7.0])


def test_clustering_accuracy_is_permutation_invariant():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert clustering_accuracy(labels, np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert clustering_accuracy(labels, np.array([0, 1, 0, 1, 0, 1])) == pytest.approx(2 / 6)
