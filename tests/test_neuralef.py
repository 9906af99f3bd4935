"""NeuralEF objective: the surrogate estimators follow the gradient of the NeuralEF loss."""
import numpy as np
import pytest
import torch

from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.knn import knn_graph
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives.neuralef import NeuralEF
from graph_eigen.spectral.eigsolve import exact_eigenpairs

K = 4


@pytest.fixture(scope="module")
def graph():
    x = np.random.default_rng(0).standard_normal((200, 3)).astype(np.float32)
    return knn_graph(x, k=8)


def gradient(objective: NeuralEF, batch, psi0: torch.Tensor) -> torch.Tensor:
    psi = psi0.clone().requires_grad_()
    objective.loss(batch, psi)[0].backward()
    return psi.grad


@pytest.mark.parametrize("variant, stop_grad", [("ordered", True), ("eigenmap", True), ("eigenmap", False)])
@pytest.mark.parametrize("estimator, power", [("running", 1), ("bank", 1), ("bank", 3)])
def test_surrogate_gradient_is_the_loss_gradient(graph, variant, stop_grad, estimator, power):
    # on the full graph the statistics are exact, so the surrogate must point along the true
    # gradient of the NeuralEF loss (autograd through the normalization): exactly half of it
    batch = BatchSampler(graph, 0, [-1], with_features=False).full_batch()
    psi0 = torch.randn(graph.num_nodes, K, generator=torch.Generator().manual_seed(0))
    exact = NeuralEF(K, variant=variant, stop_grad=stop_grad, estimator="batch", power=power)
    surrogate = NeuralEF(K, variant=variant, stop_grad=stop_grad, estimator=estimator, power=power)
    surrogate.setup(graph, None)
    g_exact, g_surrogate = gradient(exact, batch, psi0), gradient(surrogate, batch, psi0)
    assert torch.allclose(g_exact, 2 * g_surrogate, rtol=1e-4, atol=1e-6)


def test_collapsed_columns_are_pushed_apart(graph):
    # every column equal to the first is a stationary point of no NeuralEF objective: a small
    # perturbation of the second column must grow along the tangent direction
    batch = BatchSampler(graph, 0, [-1], with_features=False).full_batch()
    v = torch.from_numpy(exact_eigenpairs(graph, 3).vectors).float()
    psi0 = torch.stack([v[:, 0], v[:, 0] + 1e-2 * v[:, 1]], 1)
    objective = NeuralEF(2, estimator="running")
    grad = gradient(objective, batch, psi0)
    assert float(-grad[:, 1] @ v[:, 1]) > 0  # gradient descent moves column 2 towards eigenvector 2


def test_full_graph_sgd_recovers_the_eigenvectors(graph):
    # the table of free vectors, plain gradient descent on the bank estimator's surrogate
    batch = BatchSampler(graph, 0, [-1], with_features=False).full_batch()
    objective = NeuralEF(K, estimator="bank")
    objective.setup(graph, None)
    psi = torch.randn(graph.num_nodes, K, generator=torch.Generator().manual_seed(1)).requires_grad_()
    opt = torch.optim.SGD([psi], lr=50.0)
    for _ in range(1000):
        opt.zero_grad()
        objective.loss(batch, psi)[0].backward()
        opt.step()
    exact = exact_eigenpairs(graph, K).vectors
    assert subspace_distance(psi.detach().numpy(), exact) < 0.05


def test_bank_sums_are_updated_exactly_between_recomputations(graph):
    # minibatches with sampled neighbors: after each step the incrementally updated statistics
    # equal those recomputed from the bank from scratch
    sampler = BatchSampler(graph, 32, [3], seed=0, with_features=False)
    objective = NeuralEF(K, estimator="bank", bank_every=1000)
    objective.setup(graph, sampler)
    gen = torch.Generator().manual_seed(2)
    for _ in range(3):
        for batch in sampler.epoch():
            psi = torch.randn(batch.num_nodes, K, generator=gen)
            norm, r, m_psi = objective.bank_statistics(batch, psi)
            h = objective.bank
            filled = objective.bank_filled
            exact_norm = h[filled].pow(2).mean(0).sqrt()
            hn = h / exact_norm
            exact_r = hn.T @ torch.from_numpy(normalized_adjacency(graph) @ hn.double().numpy()).float() / filled.sum()
            assert torch.allclose(norm, exact_norm, rtol=1e-5)
            assert torch.allclose(r, exact_r, atol=1e-5)
            exact_m = torch.from_numpy(normalized_adjacency(graph) @ hn.double().numpy()).float()
            assert torch.allclose(m_psi, exact_m[batch.n_id[:batch.num_seeds]], atol=1e-5)
