"""The feature-span eigenmap (Rayleigh-Ritz on the encoder's input span), the BASiS targets
built on it, the tiled dataset family, and the one set of defaults at every size."""
import numpy as np
import pytest
import scipy.linalg

from graph_eigen.data import load_dataset
from graph_eigen.data.tiled import tile_graph
from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.runs.presets import MAX_BATCH, MAX_EPOCHS, MIN_BATCH, recommended_config
from graph_eigen.spectral.feature_span import feature_span_eigenpairs

SBM = "sbm:n=600,classes=3,avg_degree=10,features=8,seed=2"


@pytest.fixture(scope="module")
def graph():
    return load_dataset(SBM)


def test_span_of_everything_gives_the_exact_eigenpairs(graph):
    """With Z = I (every function of the nodes) the Ritz pairs are the exact top eigenpairs of K."""
    kernel = normalized_adjacency(graph)
    pairs = feature_span_eigenpairs(kernel, np.eye(graph.num_nodes), 5, with_constant=False)
    mu = scipy.linalg.eigh(kernel.toarray(), eigvals_only=True)[::-1][:5]
    assert np.allclose(pairs.values, 1.0 - mu, atol=1e-6)
    assert np.allclose(pairs.vectors.T @ pairs.vectors, np.eye(5), atol=1e-4)


def test_ritz_vectors_are_stationary_in_the_span(graph):
    """Z^T (K v - mu v) = 0 for every Ritz pair, the columns are orthonormal, and C maps rows to
    the embedding (what embeds a new node)."""
    kernel = normalized_adjacency(graph)
    z = graph.x.numpy()
    pairs = feature_span_eigenpairs(kernel, z, 4)
    full = np.hstack([z, np.ones((len(z), 1))])
    v = pairs.vectors.astype(np.float64)
    residual = kernel @ v - v * (1.0 - pairs.values)
    assert np.abs(full.T @ residual).max() < 1e-3 * np.abs(full).max()
    assert np.allclose(v.T @ v, np.eye(4), atol=1e-4)
    assert np.allclose(full @ pairs.coefficients, v, atol=1e-5)
    assert np.all(np.diff(pairs.values) >= -1e-12)  # ascending L_sym eigenvalues


def test_span_rank_is_checked(graph):
    kernel = normalized_adjacency(graph)
    z = np.repeat(graph.x.numpy()[:, :1], 6, axis=1)  # six copies of one column: rank 2 with the constant
    with pytest.raises(ConfigError, match="rank of the feature span"):
        feature_span_eigenpairs(kernel, z, 3)


def test_basis_feature_span_targets_train_and_probe(graph, tmp_path):
    from graph_eigen import GraphEigen

    model = GraphEigen(dim=3, epochs=30, options={"batch_operator": "feature_span", "feature_knn": 0}).fit(graph)
    assert model.config_.batch_operator == "feature_span"
    # the learned embedding spans nearly the targets' span (the targets are linear in the input)
    from graph_eigen.model.encoders import EncoderConfig, build_encoder

    prepared = build_encoder("sign", graph, 3, EncoderConfig("sign", hidden=8, layers=2, hops=2)).prepare(graph)
    target = feature_span_eigenpairs(normalized_adjacency(graph), prepared.x.numpy(), 3).vectors
    from graph_eigen.evaluate.spectral import subspace_distance

    assert subspace_distance(model.embedding_, target) < 0.3


def test_defaults_are_one_method_at_every_size():
    sizes = (2_708, 18_333, 256_662, 348_327, 2_449_029)
    configs = [recommended_config("X", n) for n in sizes]
    for cfg in configs:
        assert (cfg.objective, cfg.encoder, cfg.batch_operator) == ("basis", "sign", "feature_span")
        assert (cfg.dim, cfg.feature_knn, cfg.feature_knn_source) == (48, 10, "both")
        assert MIN_BATCH <= cfg.batch_size <= MAX_BATCH and 2 <= cfg.epochs <= MAX_EPOCHS
    assert [c.epochs for c in configs[:2]] == [40, 40]  # small graphs: as before
    assert configs[-1].batch_size == MAX_BATCH and configs[-1].epochs <= 3
    assert recommended_config("X", 100).anchors == 50  # the anchor clamp lives in the presets
    assert recommended_config("X", 1000, encoder="sage").batch_operator == "global"


def _base():
    rng = np.random.default_rng(0)
    edges = np.array([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])
    return Graph.from_edges(edges, num_nodes=5, x=rng.poisson(2.0, (5, 7)).astype(np.float32),
                            y=np.array([0, 1, 0, 1, 2]), name="ring")


def test_tiled_graph_copies_labels_edges_and_features():
    base = _base()
    tiled = tile_graph(base, copies=4, noise=0.0, p=0.0, dims=3)
    assert tiled.num_nodes == 20 and tiled.num_edges == 4 * base.num_edges
    assert np.array_equal(tiled.y.numpy(), np.tile(base.y.numpy(), 4))
    x = tiled.x.numpy()
    assert x.shape == (20, 3) and np.allclose(x[:5], x[15:])  # no noise: copies share features
    assert tiled.num_components == 4  # p = 0: the copies stay apart
    rewired = tile_graph(base, copies=4, noise=0.5, p=1.0, dims=3, seed=1)
    src, dst = rewired.edge_index.numpy()
    assert np.any(src // 5 != dst // 5)  # edges between copies
    assert not np.allclose(rewired.x.numpy()[:5], rewired.x.numpy()[5:10])  # noise per copy
    again = tile_graph(base, copies=4, noise=0.5, p=1.0, dims=3, seed=1)
    assert np.array_equal(again.edge_index.numpy(), rewired.edge_index.numpy())  # deterministic
    assert np.array_equal(again.x.numpy(), rewired.x.numpy())


def test_tiled_spec_errors(shared_root):
    with pytest.raises(ConfigError, match="not key=value"):
        load_dataset("tiled:Cora,copies", str(shared_root))
    with pytest.raises(ConfigError, match="`copies` or `nodes`"):
        load_dataset("tiled:Cora,copies=2,nodes=10000", str(shared_root))
    with pytest.raises(ConfigError, match="'noise' must be a number"):
        load_dataset("tiled:Cora,noise=abc", str(shared_root))


@pytest.mark.realdata
def test_tiled_cora_by_nodes(shared_root):
    g = load_dataset("tiled:Cora,nodes=8000,noise=0.3,p=0.1", str(shared_root))
    assert g.num_nodes == 3 * 2708 and g.x.shape[1] == 100
    assert g.num_classes == 7
