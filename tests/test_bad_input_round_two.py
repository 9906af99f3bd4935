"""Bad input ends in one line naming the problem: features, sizes, files and run contents."""
import numpy as np
import pytest
import scipy.sparse as sp

from graph_eigen.cli.main import main
from graph_eigen.data import load_dataset
from graph_eigen.errors import ConfigError, InvalidGraphError, TrainingDivergedError
from graph_eigen.graph.core import Graph

SBM = "sbm:n=300,classes=3,avg_degree=10,features=6,seed=0"


@pytest.fixture(scope="module")
def fitted():
    from graph_eigen import GraphEigen

    graph = load_dataset(SBM)
    return graph, GraphEigen(dim=3, epochs=1).fit(graph)


def test_transform_with_another_feature_width_is_one_error(fitted):
    """Issue 23.14."""
    graph, model = fitted
    other = Graph.from_edges(graph.edge_index, num_nodes=300, x=np.ones((300, 4), np.float32))
    with pytest.raises(ConfigError, match="trained on 6 features per node, 'graph' has 4"):
        model.transform(other)


def test_transform_of_a_graph_smaller_than_the_neighbor_count_says_so(fitted):
    """Issue 23.21."""
    _, model = fitted
    small = Graph.from_edges(np.array([[0, 1, 2, 3], [1, 2, 3, 4]]), num_nodes=5, x=np.ones((5, 6), np.float32))
    with pytest.raises(ConfigError, match="10 nearest feature neighbors .* has only 5 nodes"):
        model.transform(small)


def test_features_as_scipy_sparse_are_accepted_strings_are_refused():
    """Issue 23.17."""
    graph = load_dataset(SBM)
    dense = graph.x.numpy()
    from_sparse = Graph.from_edges(graph.edge_index, num_nodes=300, x=sp.csr_matrix(dense))
    assert np.array_equal(from_sparse.x.numpy(), dense)
    with pytest.raises(InvalidGraphError, match="features must be numbers"):
        Graph.from_edges(graph.edge_index, num_nodes=300, x=np.full((300, 6), "a"))
    with pytest.raises(InvalidGraphError, match="features must be numbers"):
        Graph.from_edges(graph.edge_index, num_nodes=300, x=np.full((300, 6), {}, dtype=object))


def test_non_finite_and_huge_features_name_their_rows():
    """Issue 23.22 and 23.23."""
    graph = load_dataset(SBM)
    x = graph.x.numpy().copy()
    x[5:50] = np.nan
    with pytest.raises(InvalidGraphError, match=r"in 45 rows \(first: row 5\)"):
        Graph.from_edges(graph.edge_index, num_nodes=300, x=x)
    for huge in (graph.x.numpy().astype(np.float64) * 1e300, graph.x.numpy() * np.float32(1e30)):
        with pytest.raises(InvalidGraphError, match="rescale them"):
            Graph.from_edges(graph.edge_index, num_nodes=300, x=huge)


def test_probe_names_the_first_non_finite_row():
    from graph_eigen.evaluate.probe import linear_probe

    emb = np.ones((300, 3), np.float32)
    emb[5:50] = np.nan
    with pytest.raises(ConfigError, match=r"in 45 rows \(first: row 5\)"):
        linear_probe(emb, load_dataset(SBM))


def test_api_divergence_does_not_name_the_temporary_folder(monkeypatch):
    """Issue 23.24: the estimator's temporary run folder is gone when the user reads the error."""
    from graph_eigen import GraphEigen
    from graph_eigen.model.objectives.basis import BASiS

    real_loss = BASiS.loss

    def loss_nan_at_step_3(self, batch, psi):
        value, record = real_loss(self, batch, psi)
        return (value * float("nan"), record) if self.steps_seen == 3 else (value, record)

    def counting(self, batch, psi):
        self.steps_seen = getattr(self, "steps_seen", -1) + 1
        return loss_nan_at_step_3(self, batch, psi)

    monkeypatch.setattr(BASiS, "loss", counting)
    with pytest.raises(TrainingDivergedError) as info:
        GraphEigen(dim=3, epochs=3, batch_size=64, options={"layers": 2}).fit(load_dataset(SBM))
    assert "graph-eigen-" not in str(info.value) and "smaller `lr`" in str(info.value)


def test_files_that_are_not_graphs_and_sparse_ids_are_named(tmp_path, capsys):
    """Issue 23.25."""
    (tmp_path / "features.json").write_text('{"0": [1, 2]}')
    (tmp_path / "big.csv").write_text("0,1\n1,2000000000\n")
    assert main(["info", "--dataset", f"file:{tmp_path / 'features.json'}"]) == 2
    assert "a .json file is not a graph" in capsys.readouterr().err
    assert main(["info", "--dataset", f"file:{tmp_path / 'big.csv'}"]) == 2
    assert "node id 2000000000" in capsys.readouterr().err


def test_plot_of_garbage_metrics_is_an_error(tmp_path, capsys):
    """Issue 23.26."""
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--dim", "3", "--epochs", "1", "--out", str(run), "--no-progress"]) == 0
    (run / "metrics.jsonl").write_text("garbage\nmore garbage\n")
    assert main(["plot", str(run)]) == 2
    assert "holds no training record" in capsys.readouterr().err


def test_sampled_batch_kernel_keeps_edge_weights_and_self_loops():
    """Issue 23.11: with every neighbor sampled around every node, the `sampled` batch kernel is
    the whole operator D^-1/2 (A + S) D^-1/2, weights and self-loops included."""
    import torch

    from graph_eigen.graph.operators import normalized_adjacency
    from graph_eigen.graph.sampling import BatchSampler
    from graph_eigen.model.objectives.basis import BASiS

    rng = np.random.default_rng(0)
    src = rng.integers(0, 40, 200)
    dst = rng.integers(0, 40, 200)
    keep = src != dst
    graph = Graph.from_edges(np.vstack([src[keep], dst[keep]]), num_nodes=40, edge_weight=rng.uniform(0.1, 3.0, keep.sum()),
                             self_loop=rng.uniform(0, 2, 40), x=rng.standard_normal((40, 3)).astype(np.float32))
    sampler = BatchSampler(graph, batch_size=40, fanouts=[-1])
    objective = BASiS(3, batch_operator="sampled", anchors=4)
    objective.attach(graph, sampler)
    batch = sampler.sample(torch.arange(40))
    ids = batch.n_id.numpy()
    kernel = objective._batch_kernel(batch).toarray()
    expected = normalized_adjacency(graph).toarray()[np.ix_(ids, ids)]
    assert np.allclose(kernel, expected, atol=1e-6)


def test_unconverged_iterative_solve_is_refused_and_residuals_are_recorded(monkeypatch):
    """Issue 23.13: vectors that are not eigenvectors never become targets or references."""
    from graph_eigen.evaluate.report import spectral_report
    from graph_eigen.spectral import chebyshev
    from graph_eigen.spectral.eigsolve import exact_eigenpairs

    graph = load_dataset(SBM)
    good = exact_eigenpairs(graph, 3, method="chebyshev")
    assert good.residual < 1e-2
    monkeypatch.setattr(chebyshev, "filtered_subspace_eigenpairs", lambda kernel, k, **kw: (
        np.linspace(1, 0.5, k), np.linalg.qr(np.random.default_rng(0).standard_normal((kernel.shape[0], k)))[0]))
    with pytest.raises(ConfigError, match="chebyshev eigensolver did not converge"):
        exact_eigenpairs(graph, 3, method="chebyshev")
    report = spectral_report(good.vectors, graph)
    assert report["exact_residual"] < 1e-6 and report["exact_method"] in ("dense", "eigsh")


def test_edge_list_sidecars_sparse_features_and_string_labels(tmp_path):
    """Issue 23.28 and 29: the documented sidecars, sparse features and class names."""
    (tmp_path / "g.csv").write_text(",src,dst\n0,0,1\n1,1,2\n2,2,3\n3,3,0\n")  # pandas' index column
    features = sp.random(4, 50, density=0.2, format="csr", random_state=0, dtype=np.float32)
    sp.save_npz(tmp_path / "g.features.npz", features)
    np.save(tmp_path / "g.labels.npy", np.array(["spam", "ham", "spam", "eggs"]))
    graph = load_dataset(f"file:{tmp_path / 'g.csv'}")
    assert graph.num_nodes == 4 and graph.num_edges == 4
    assert np.array_equal(graph.x.numpy(), features.toarray())
    assert graph.y.tolist() == [2, 1, 2, 0]  # eggs, ham, spam in sorted order
