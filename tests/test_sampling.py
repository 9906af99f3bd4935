"""Batches: the reweighted batch kernel is an unbiased estimate of Psi^T K Psi / n."""
import numpy as np
import pytest
import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.knn import knn_graph
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.graph.sampling import BatchSampler


def point_cloud_graph(weighted: bool) -> Graph:
    x = np.random.default_rng(0).standard_normal((300, 4)).astype(np.float32)
    g = knn_graph(x, k=8)
    return g if weighted else Graph.from_edges(g.edge_index, num_nodes=g.num_nodes)


def batch_statistics(graph, batch_size, fanout, epochs):
    psi = torch.randn(graph.num_nodes, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    exact = psi.T @ torch.from_numpy(normalized_adjacency(graph) @ psi.numpy()) / graph.num_nodes
    sampler = BatchSampler(graph, batch_size, [fanout], seed=0, with_features=False)
    torch.manual_seed(0)
    stats = []
    for _ in range(epochs):
        for b in sampler.epoch():
            p = psi[b.n_id]
            stats.append(p[: b.num_seeds].T @ (b.kernel.double() @ p)[: b.num_seeds] / b.num_seeds)
    return torch.stack(stats), exact


@pytest.mark.parametrize("weighted", [False, True])
def test_all_neighbors_epoch_mean_is_exact(weighted):
    stats, exact = batch_statistics(point_cloud_graph(weighted), 50, -1, 1)
    assert torch.allclose(stats.mean(0), exact, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_sampled_neighbors_are_unbiased(weighted):
    # every node a seed: only the neighbor draws are random; the mean must match within noise
    stats, exact = batch_statistics(point_cloud_graph(weighted), 300, 3, 600)
    stderr = stats.std(0) / len(stats) ** 0.5
    assert float(((stats.mean(0) - exact).abs() / stderr).max()) < 4.5


def test_full_batch_holds_the_whole_kernel():
    g = point_cloud_graph(True)
    b = BatchSampler(g, 0, [10]).full_batch()
    assert b.num_seeds == g.num_nodes
    assert np.allclose(b.kernel.to_dense().numpy(), normalized_adjacency(g).toarray().T, atol=1e-6)


def test_anchors_lead_every_batch():
    g = point_cloud_graph(False)
    anchors = torch.tensor([3, 7, 11])
    for b in BatchSampler(g, 40, [5], seed=0, anchors=anchors).epoch():
        assert b.n_id[:3].tolist() == [3, 7, 11] and b.num_anchors == 3


@pytest.mark.parametrize("batch_size, fanouts", [(-1, [5]), (10, []), (10, [0]), (10, [-3])])
def test_bad_sampling_options(batch_size, fanouts):
    with pytest.raises(ConfigError):
        BatchSampler(point_cloud_graph(False), batch_size, fanouts)


def test_endless_batches_run_epoch_after_epoch_and_a_batch_drops_its_kernel():
    graph = point_cloud_graph(weighted=False)
    sampler = BatchSampler(graph, 64, [3], seed=0, with_features=False)
    per_epoch = -(-graph.num_nodes // 64)
    stream = sampler.batches()
    seeds = [b.n_id[:b.num_seeds] for b in (next(stream) for _ in range(per_epoch))]
    assert torch.equal(torch.sort(torch.cat(seeds)).values, torch.arange(graph.num_nodes))  # one epoch
    batch = next(stream)  # the stream goes on into the next epoch
    kernel = batch.kernel
    fresh = batch.without_kernel()
    assert fresh._kernel is None and batch._kernel is kernel
    assert torch.equal(fresh.kernel.to_dense(), kernel.to_dense())


def test_last_hop_by_column_blocks_equals_the_full_propagation():
    """The feature kNN graph reads A_hat^2 X computed a few columns at a time (memory)."""
    from graph_eigen.data import load_dataset
    from graph_eigen.graph.propagation import propagate, propagate_last

    graph = load_dataset("sbm:n=300,classes=3,avg_degree=10,features=70,seed=0")
    assert torch.allclose(propagate_last(graph, graph.x, 2, columns=16), propagate(graph, graph.x, 2)[-1])
