"""The Graph container: validation and cleaning."""
import numpy as np
import pytest
import torch

from graph_eigen.errors import InvalidGraphError
from graph_eigen.graph.core import Graph


def path_edges(n):
    return torch.stack([torch.arange(n - 1), torch.arange(1, n)])


def test_cleaning_symmetrizes_dedups_and_drops_self_loops():
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 1, 3, 3, 3]])  # dup 0-1, self loops 1-1 and 3-3, dup 2-3
    g = Graph.from_edges(ei, num_nodes=4)
    pairs = set(map(tuple, g.edge_index.T.tolist()))
    assert pairs == {(0, 1), (1, 0), (2, 3), (3, 2)}
    assert g.num_edges == 2
    assert g.degree.tolist() == [1, 1, 1, 1]
    assert g.num_components == 2
    assert len(g.largest_component) == 2


def test_isolated_nodes_count_as_components():
    g = Graph.from_edges(path_edges(3), num_nodes=5)
    assert g.num_components == 3
    assert g.largest_component.tolist() == [0, 1, 2]


def test_weighted_duplicates_keep_max_weight():
    g = Graph.from_edges(torch.tensor([[0, 1], [1, 0]]), num_nodes=2, edge_weight=[0.5, 2.0])
    assert g.edge_weight.tolist() == [2.0, 2.0]
    assert g.degree.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("edges, match", [
    (torch.tensor([[0, 5], [1, 0]]), "refers to node 5"),
    (torch.tensor([[0, -1], [1, 0]]), "negative node id"),
    (torch.zeros(3, 4, dtype=torch.long), r"shape \(2, E\)"),
    (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "integers"),
    (np.array([[0.5, 1.0], [1.0, 0.0]]), "integers"),
])
def test_bad_edges_are_named(edges, match):
    with pytest.raises(InvalidGraphError, match=match):
        Graph.from_edges(edges, num_nodes=3)


def test_non_finite_features_rejected():
    x = torch.ones(3, 2)
    x[1, 0] = float("nan")
    with pytest.raises(InvalidGraphError, match="NaN or infinite"):
        Graph.from_edges(path_edges(3), x=x)


def test_labels_of_wrong_length_rejected():
    with pytest.raises(InvalidGraphError, match="labels must have shape"):
        Graph.from_edges(path_edges(3), num_nodes=3, y=[0, 1])


def test_empty_graph_rejected():
    with pytest.raises(InvalidGraphError, match="empty graph"):
        Graph.from_edges(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(InvalidGraphError, match="no edges left"):
        Graph.from_edges(torch.tensor([[0], [0]]), num_nodes=2)


def test_split_out_of_range_rejected():
    with pytest.raises(InvalidGraphError, match="split 'train'"):
        Graph.from_edges(path_edges(3), split={"train": [0, 7]})


def test_subgraph_renumbers_and_keeps_features():
    x = torch.arange(10, dtype=torch.float32).view(5, 2)
    g = Graph.from_edges(path_edges(5), x=x, y=[0, 1, 0, 1, 0])
    sub = g.subgraph([1, 2, 3])
    assert sub.num_nodes == 3 and sub.num_edges == 2
    assert torch.equal(sub.x, x[[1, 2, 3]])
    assert sub.y.tolist() == [1, 0, 1]


def test_label_ids_that_are_not_class_ids_are_refused():
    """A class id of 1e9 made the probe allocate 36 GB and `info` report 1e9 classes."""
    import numpy as np
    import pytest

    from graph_eigen.errors import InvalidGraphError
    from graph_eigen.graph.core import Graph

    edges = np.array([[0, 1, 2], [1, 2, 3]])
    with pytest.raises(InvalidGraphError, match="largest is 1000000000"):
        Graph.from_edges(edges, num_nodes=4, y=np.array([0, 1, 0, 10**9]))
    with pytest.raises(InvalidGraphError, match="got -5"):
        Graph.from_edges(edges, num_nodes=4, y=np.array([0, 1, -5, 1]))
    assert Graph.from_edges(edges, num_nodes=4, y=np.array([0, 3, -1, 1])).num_classes == 4
