"""The Python estimator: fit / transform / save / load, and the inputs it accepts."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graph_eigen import GraphEigen, as_graph, load_dataset
from graph_eigen.errors import CheckpointError, ConfigError

SBM = "sbm:n=1500,classes=4,avg_degree=12,features=16,seed=3"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    graph = load_dataset(SBM)
    est = GraphEigen(dim=4, encoder="mlp", epochs=2, options={"input_dim": 0, "anchors": 64}).fit(graph)
    return est, graph


def test_fit_sets_the_learned_state(fitted):
    est, graph = fitted
    assert est.embedding_.shape == (graph.num_nodes, 4) and np.isfinite(est.embedding_).all()
    assert est.eigenvalues_.shape == (4,)
    assert est.config_.dim == 4 and est.config_.objective == "basis"  # the small-graph defaults


def test_transform_embeds_new_nodes_and_reproduces_the_export(fitted):
    est, graph = fitted
    assert np.allclose(est.transform(graph), est.embedding_)
    new = load_dataset("sbm:n=300,classes=4,avg_degree=12,features=16,seed=9")
    assert est.transform(new).shape == (300, 4)


def test_save_and_load_give_the_same_embedding(fitted, tmp_path):
    est, graph = fitted
    est.save(tmp_path / "model")
    again = GraphEigen.load(tmp_path / "model")
    new = load_dataset("sbm:n=300,classes=4,avg_degree=12,features=16,seed=9")
    assert np.array_equal(again.transform(new), est.transform(new))
    assert np.array_equal(again.embedding_, est.embedding_)


def test_inputs_pyg_data_and_scipy_adjacency_give_the_same_graph():
    from torch_geometric.data import Data

    graph = load_dataset("sbm:n=200,classes=2,avg_degree=6,features=3,seed=0")
    from_data = as_graph(Data(edge_index=graph.edge_index, x=graph.x, num_nodes=graph.num_nodes))
    from_scipy = as_graph(sp.csr_matrix(graph.adjacency()), graph.x.numpy())
    for g in (from_data, from_scipy):
        assert torch.equal(g.edge_index, graph.edge_index) and torch.equal(g.x, graph.x)


def test_bad_inputs_are_refused_with_the_parameter_named():
    with pytest.raises(ConfigError, match="expected a Graph"):
        as_graph([[0, 1]])
    with pytest.raises(ConfigError, match="unknown option"):
        GraphEigen(options={"dimension": 3}).fit(load_dataset("sbm:n=200,classes=2,avg_degree=6,features=3"))
    with pytest.raises(CheckpointError, match="not fitted"):
        GraphEigen().transform(load_dataset("sbm:n=200,classes=2,avg_degree=6,features=3"))


def test_defaults_fit_a_graph_of_100_nodes_with_features():
    """The anchor count follows the graph's size in the presets, for the API as for the CLI."""
    from graph_eigen import GraphEigen, load_dataset

    graph = load_dataset("sbm:n=100,classes=2,avg_degree=8,features=6,seed=0")
    model = GraphEigen(dim=4, epochs=2).fit(graph)
    assert model.embedding_.shape == (100, 4) and model.config_.anchors == 50


def test_save_never_replaces_or_mixes_with_existing_files(tmp_path):
    from graph_eigen import GraphEigen, load_dataset
    from graph_eigen.errors import ConfigError

    model = GraphEigen(dim=3, epochs=1).fit(load_dataset("sbm:n=300,classes=3,avg_degree=8,features=6,seed=0"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text('{"mine": 1}')
    with pytest.raises(ConfigError, match="already holds files"):
        model.save(mine)
    assert (mine / "config.json").read_text() == '{"mine": 1}'
    (tmp_path / "harness.py").write_text("print(1)\n")
    with pytest.raises(ConfigError, match="is a file"):
        model.save(tmp_path / "harness.py")
    assert (tmp_path / "harness.py").read_text() == "print(1)\n"
    assert (model.save(tmp_path / "new") / "checkpoint.pt").is_file()
