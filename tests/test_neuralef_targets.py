"""NeuralEF's targets estimator: the targets are the NeuralEF step in function space, orthonormalized."""
import math

import numpy as np
import pytest
import torch

from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.knn import knn_graph
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives import build_objective
from graph_eigen.runs.recorder import train
from graph_eigen.spectral.eigsolve import exact_eigenpairs

K = 4


@pytest.fixture(scope="module")
def graph():
    x = np.random.default_rng(0).standard_normal((200, 3)).astype(np.float32)
    return knn_graph(x, k=8)


def objective_for(graph, power: int, target_every: int = 1, filter: str = "power"):
    objective = build_objective("neuralef", K, estimator="targets", power=power, target_every=target_every,
                                filter=filter)
    objective.setup(graph, BatchSampler(graph, 0, [-1], with_features=False))
    return objective


def operator(graph, power: int) -> np.ndarray:
    k = normalized_adjacency(graph).toarray()
    return np.linalg.matrix_power((np.eye(len(k)) + k) / 2, power)


def test_targets_are_the_orthonormalized_neuralef_step(graph):
    # the NeuralEF step h_j + g_j / c_j, computed from its definition, then Gram-Schmidt in
    # column order: the same targets as the QR of M H that the estimator uses
    objective = objective_for(graph, power=3)
    h = objective.bank.double().numpy()
    h = h / np.sqrt((h ** 2).mean(0))
    m = operator(graph, 3)
    mh = m @ h
    r = h.T @ mh / len(h)
    step = np.empty_like(h)
    for j in range(K):
        g = mh[:, j] - sum(r[i, j] / r[i, i] * mh[:, i] for i in range(j))
        c = r[j, j] - sum(r[i, j] ** 2 / r[i, i] for i in range(j))
        step[:, j] = h[:, j] + (g - c * h[:, j]) / c
    expected = np.empty_like(step)
    for j in range(K):  # classical Gram-Schmidt, in column order
        v = step[:, j] - expected[:, :j] @ (expected[:, :j].T @ step[:, j])
        expected[:, j] = v / np.linalg.norm(v)
    expected *= np.sign((expected * h).sum(0)) * math.sqrt(len(h))
    objective.refresh_targets()
    assert np.allclose(objective.targets.numpy(), expected, atol=1e-4)
    targets = objective.targets.double().numpy()
    assert np.allclose(targets.T @ targets / len(h), np.eye(K), atol=1e-5)


@pytest.mark.parametrize("filter", ["power", "chebyshev"])
def test_eigenvectors_are_the_fixed_point(graph, filter):
    objective = objective_for(graph, power=2, filter=filter)
    exact = exact_eigenpairs(graph, K)
    objective.bank.copy_(torch.from_numpy(exact.vectors * 3.0))  # any scale
    objective.refresh_targets()
    assert np.allclose(objective.targets.numpy() / math.sqrt(graph.num_nodes), exact.vectors, atol=1e-5)
    assert np.allclose(objective.learned_eigenvalues().numpy(), exact.values, atol=1e-5)


def test_chebyshev_filter_is_the_chebyshev_polynomial_of_the_kernel(graph):
    # degree 20: the recurrence is rescaled twice on the way
    objective = objective_for(graph, power=20, filter="chebyshev")
    mu, v = np.linalg.eigh(normalized_adjacency(graph).toarray())
    h = objective.bank.double().numpy()
    a = objective._damped_below(objective.bank)
    assert 0.0 <= a <= mu[-K]  # below the k-th eigenvalue (Cauchy interlacing)
    y = (2 * mu + 1 - a) / (1 + a)
    t = np.where(np.abs(y) <= 1, np.cos(20 * np.arccos(np.clip(y, -1, 1))),
                 np.cosh(20 * np.arccosh(np.maximum(y, 1))))
    expected = v @ (t[:, None] * (v.T @ h))
    got = objective._chebyshev(objective.bank, a).double().numpy()  # rescaled by one constant
    assert np.allclose(got / np.linalg.norm(got), expected / np.linalg.norm(expected), atol=1e-5)


def test_chebyshev_cut_at_the_solution_is_2_lambda_k_minus_1(graph):
    # theta = lambda_k of K when the basis spans the top k eigenvectors
    exact = exact_eigenpairs(graph, K)
    objective = objective_for(graph, power=1)
    a = objective._damped_below(torch.from_numpy(exact.vectors) * 2.0)
    assert a == pytest.approx(2 * (1 - exact.values[-1]) - 1, abs=1e-5)


@pytest.mark.parametrize("filter, power", [("power", 64), ("chebyshev", 16)])
def test_exact_regression_steps_converge_in_column_order(graph, filter, power):
    # a table that fits its targets exactly turns the estimator into subspace iteration on M:
    # every column converges to its own eigenvector, in order
    objective = objective_for(graph, power=power, filter=filter)
    batch = BatchSampler(graph, 0, [-1], with_features=False).full_batch()
    psi = objective.bank.clone().requires_grad_()  # the seeded random start
    for _ in range(60):
        loss, _ = objective.loss(batch, psi)  # stores psi in the bank, refreshes the targets
        psi.data.copy_(objective.targets)
    exact = exact_eigenpairs(graph, K).vectors
    learned = psi.detach().numpy() / math.sqrt(graph.num_nodes)
    assert subspace_distance(learned, exact) < 1e-4
    assert np.allclose(np.abs((learned * exact).sum(0)), 1.0, atol=1e-3)


@pytest.mark.parametrize("source", ["bank", "inference"])
def test_sage_learns_the_eigenvectors_on_minibatches(graph, source, tmp_path):
    # the end-to-end claim on a small graph: a GNN on neighbor-sampled batches
    cfg = TrainConfig(encoder="sage", dim=K, hidden=64, epochs=30, batch_size=50, fanouts=[5, 5],
                      estimator="targets", power=64, target_source=source, lr=0.01, checkpoint_every=10_000)
    model = train(cfg, graph, tmp_path / "run", progress=False)
    emb = model.embed(graph)
    assert subspace_distance(emb, exact_eigenpairs(graph, K).vectors) < 0.15
    if source == "inference":  # a refresh reads the encoder's export of every node
        model.objective.train()
        model.objective.refresh_targets()
        assert torch.equal(model.objective.bank, model.encoder.embed_all(graph))


@pytest.mark.parametrize("overrides, message", [
    ({"variant": "eigenmap"}, "ordered variant only"),
    ({"target_every": -1}, "`target_every` must be >= 0"),
    ({"source": "cache"}, "unknown target source 'cache'"),
    ({"filter": "lanczos"}, "unknown target filter 'lanczos'"),
])
def test_bad_options_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build_objective("neuralef", K, estimator="targets", **overrides)
