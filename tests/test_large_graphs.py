"""The large-graph path: propagated features, seed-only batches, whole-graph export, the
Chebyshev and AMG eigensolvers, the eigensolve cache, faiss kNN, devices and size defaults."""
import numpy as np
import pytest
import torch

from graph_eigen.config import TrainConfig
from graph_eigen.data import load_dataset
from graph_eigen.device import resolve_device
from graph_eigen.errors import ConfigError
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.neighbors import cosine_knn
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.encoders import EncoderConfig, build_encoder
from graph_eigen.runs.presets import neuralef_sign_config, recommended_config
from graph_eigen.runs.recorder import train
from graph_eigen.spectral import eigsolve
from graph_eigen.spectral.chebyshev import filtered_subspace_eigenpairs
from graph_eigen.spectral.eigsolve import exact_eigenpairs, top_eigenpairs

SBM = "sbm:n=2000,classes=4,avg_degree=12,features=16,seed=1"


@pytest.fixture(scope="module")
def graph():
    return load_dataset(SBM)


def test_sign_encoder_reads_x_and_its_gcn_propagations(graph):
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    enc = build_encoder("sign", graph, 4, EncoderConfig("sign", hidden=16, layers=2, hops=2))
    prepared = enc.prepare(graph)
    index, weight = gcn_norm(graph.edge_index, None, graph.num_nodes, add_self_loops=True)
    a_hat = torch.sparse_coo_tensor(index, weight, (graph.num_nodes,) * 2)
    one = torch.sparse.mm(a_hat, graph.x)
    expected = torch.cat([graph.x, one, torch.sparse.mm(a_hat, one)], dim=1)
    assert torch.allclose(prepared.x, expected, atol=1e-5)
    assert enc.prepare(prepared) is prepared  # propagated once, not again
    assert not enc.reads_neighbors


def test_sign_encoder_embeds_new_nodes(graph):
    enc = build_encoder("sign", graph, 4, EncoderConfig("sign", hidden=16, layers=2, hops=1))
    other = load_dataset("sbm:n=500,classes=4,avg_degree=12,features=16,seed=7")
    out = enc.embed_all(other)
    assert out.shape == (500, 4) and torch.isfinite(out).all()


def test_seed_only_batches_hold_the_seeds_and_no_edges(graph):
    sampler = BatchSampler(graph, 64, [10, 5], seed=0, with_neighbors=False)
    batch = next(iter(sampler.epoch()))
    assert batch.num_nodes == batch.num_seeds == 64
    assert batch.edge_index.shape == (2, 0) and batch.op_index.shape == (2, 0)
    assert torch.equal(batch.x, graph.x[batch.n_id])
    assert sampler._loader is None  # no neighbor loader was built


def test_csr_loader_samples_edges_of_the_graph(graph):
    sampler = BatchSampler(graph, 32, [5], seed=0)
    batch = next(iter(sampler.epoch()))
    src, dst = batch.n_id[batch.edge_index[0]], batch.n_id[batch.edge_index[1]]
    edges = set(zip(*graph.edge_index.tolist()))
    assert all((s, d) in edges for s, d in zip(src.tolist(), dst.tolist()))
    assert batch.op_index.shape[1] == 32 * 5  # f draws per seed, with replacement


def test_targets_and_sign_train_on_seed_batches(graph, tmp_path):
    cfg = TrainConfig(dataset=SBM, objective="neuralef", encoder="sign", dim=4, hidden=32, epochs=3,
                      batch_size=256, power=8, lr=0.01, device="cpu")
    model = train(cfg, graph, tmp_path / "run", progress=False)
    exact = exact_eigenpairs(graph, 4).vectors
    assert subspace_distance(model.embed(graph), exact) < 1.0


@pytest.mark.parametrize("kind", ["sage", "gcn"])
def test_gnn_export_by_whole_graph_products_equals_the_full_forward(graph, kind):
    enc = build_encoder(kind, graph, 4, EncoderConfig(kind, hidden=16, layers=2))
    enc.eval()
    with torch.no_grad():
        full = enc.net(graph.x, graph.edge_index)
    assert torch.allclose(enc.embed_all(graph), full, atol=1e-5)


def test_chebyshev_and_amg_solvers_match_eigsh(graph):
    kernel = normalized_adjacency(graph)
    mu, vecs, _ = top_eigenpairs(kernel, 4, method="eigsh")
    cheb_mu, cheb_vecs = filtered_subspace_eigenpairs(kernel, 4, tol=1e-6)
    assert np.allclose(cheb_mu, mu, atol=1e-6)
    assert subspace_distance(cheb_vecs, vecs) < 1e-6
    amg_mu, amg_vecs, used = top_eigenpairs(kernel, 4, method="amg", tol=1e-8)
    assert used == "amg" and np.allclose(amg_mu, mu, atol=1e-6)
    assert subspace_distance(amg_vecs, vecs) < 1e-6


def test_auto_picks_the_solver_by_size():
    assert eigsolve.solver_for(1000) == "dense"
    assert eigsolve.solver_for(50_000) == "eigsh"
    assert eigsolve.solver_for(1_000_000) == "chebyshev"
    assert eigsolve.solver_for(1_000_000, "eigsh") == "eigsh"


def test_unnormalized_laplacian_refuses_the_kernel_solvers(graph):
    with pytest.raises(ConfigError, match="normalized Laplacians"):
        exact_eigenpairs(graph, 3, laplacian_kind="unnormalized", method="chebyshev")


def test_exact_solves_are_cached_per_graph_and_k(monkeypatch):
    g = load_dataset("sbm:n=6000,classes=3,avg_degree=10,features=4,seed=2")
    first = exact_eigenpairs(g, 3)
    calls = []
    real = eigsolve.top_eigenpairs
    monkeypatch.setattr(eigsolve, "top_eigenpairs", lambda *a, **k: calls.append(a) or real(*a, **k))
    again = exact_eigenpairs(load_dataset("sbm:n=6000,classes=3,avg_degree=10,features=4,seed=2"), 3)
    assert calls == [] and np.array_equal(again.vectors, first.vectors)
    exact_eigenpairs(g, 4)  # a larger K: solved
    smaller = exact_eigenpairs(g, 2)  # a smaller K: the first columns of a cached solve
    assert len(calls) == 1 and np.array_equal(smaller.vectors, first.vectors[:, :2])
    exact_eigenpairs(g, 3, method="eigsh")  # an explicit solver: solved, not read from the cache
    assert len(calls) == 2


def test_knn_never_returns_the_point_and_keeps_real_neighbors_of_duplicates():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], dtype=np.float32)
    idx = cosine_knn(x, 2)
    assert not (idx == np.arange(5)[:, None]).any()
    assert set(idx[0]) == {1, 2} and set(idx[1]) == {0, 2}


def test_knn_exact_matches_brute_force_and_ivf_has_high_recall():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((20, 16))
    x = (centers[rng.integers(0, 20, 5000)] + 0.3 * rng.standard_normal((5000, 16))).astype(np.float32)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    brute = np.argsort(-sim, axis=1)[:, :5]
    exact = cosine_knn(x, 5)
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact, brute)]) > 0.999
    approx = cosine_knn(x, 5, exact=False)
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(approx, brute)]) > 0.9


def test_devices_resolve_or_refuse():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            resolve_device("cuda")


def test_every_size_gets_the_same_method():
    small, large = recommended_config("X", 10_000), recommended_config("X", 2_449_029)
    for cfg in (small, large, recommended_config("X")):  # size unknown too
        assert (cfg.encoder, cfg.objective, cfg.batch_operator) == ("sign", "basis", "feature_span")
    assert large.batch_size > small.batch_size and large.epochs < small.epochs  # the same work per step
    alternative = neuralef_sign_config("X")
    assert (alternative.encoder, alternative.objective, alternative.estimator) == ("sign", "neuralef", "targets")
