"""Synthetic DC-SBM, kNN affinity graphs (and mnist-knn), and user graph files."""
import gzip

import numpy as np
import pytest
import torch

from graph_eigen.data import load_dataset
from graph_eigen.data.files import load_file, save_npz
from graph_eigen.data.mnist import load_mnist_knn, read_mnist_test
from graph_eigen.data.synthetic import degree_corrected_sbm, load_sbm
from graph_eigen.errors import ConfigError, DatasetNotFoundError, InvalidGraphError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.knn import knn_graph


# ---------------------------------------------------------------------- SBM
def test_sbm_deterministic_by_seed():
    a = load_sbm("n=2000,classes=5,avg_degree=10,features=8,seed=3")
    b = load_sbm("n=2000,classes=5,avg_degree=10,features=8,seed=3")
    c = load_sbm("n=2000,classes=5,avg_degree=10,features=8,seed=4")
    assert torch.equal(a.edge_index, b.edge_index)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert a.x.dtype == torch.float32 and a.x.shape == (2000, 8)
    assert not torch.equal(a.x, c.x)
    assert a.edge_index.shape != c.edge_index.shape or not torch.equal(a.edge_index, c.edge_index)


@pytest.fixture(scope="module")
def sbm20k() -> Graph:
    return degree_corrected_sbm(20000, num_classes=10, avg_degree=20, num_features=16,
                                homophily=0.8, seed=0)


def test_sbm_average_degree(sbm20k):
    avg = 2 * sbm20k.num_edges / sbm20k.num_nodes
    assert abs(avg - 20) / 20 < 0.10, avg
    assert avg <= 20  # merging repeats only removes edges
    deg = sbm20k.degree.numpy()
    assert deg.max() > 5 * deg.mean()  # heavy-tailed degrees


def test_sbm_homophily(sbm20k):
    row, col = sbm20k.edge_index
    intra = float((sbm20k.y[row] == sbm20k.y[col]).double().mean())
    expected = 0.8 + 0.2 / 10
    assert abs(intra - expected) < 0.03, intra
    assert sbm20k.num_classes == 10


def test_sbm_homophily_zero_is_not_assortative():
    g = degree_corrected_sbm(5000, num_classes=5, avg_degree=10, num_features=0,
                             homophily=0.0, seed=1)
    row, col = g.edge_index
    intra = float((g.y[row] == g.y[col]).double().mean())
    assert abs(intra - 0.2) < 0.03
    assert g.x is None


def test_sbm_spec_defaults_and_registry():
    g = load_dataset("sbm:n=500,classes=3,avg_degree=6,features=4")
    assert g.num_nodes == 500 and g.num_features == 4 and g.num_classes == 3


@pytest.mark.parametrize(
    "spec, key",
    [
        ("n=100,colour=3", "colour"),
        ("n=abc", "n"),
        ("n=2.5", "n"),
        ("classes=0", "classes"),
        ("homophily=1.5", "homophily"),
        ("avg_degree=-1", "avg_degree"),
        ("seed=-2", "seed"),
        ("preset=cora", "cora"),
        ("n", "n"),
    ],
)
def test_sbm_spec_errors(spec, key):
    with pytest.raises(ConfigError, match=key):
        load_sbm(spec)


# ---------------------------------------------------------------------- kNN
def test_knn_graph_small_cloud():
    rng = np.random.default_rng(0)
    pts = np.vstack([rng.normal(0, 1, (60, 3)), rng.normal(8, 1, (60, 3))])
    k = 6
    g = knn_graph(pts, k=k, local_scale_neighbor=4)
    a = g.adjacency()
    assert abs(a - a.T).max() == 0
    w = g.edge_weight.numpy()
    assert (w > 0).all() and (w <= 1).all()
    assert (np.diff(a.indptr) >= k - 1).all()
    assert a.diagonal().sum() == 0
    assert g.num_components == 2  # the two far-apart blobs
    with pytest.raises(ConfigError, match="local_scale_neighbor"):
        knn_graph(pts, k=5, local_scale_neighbor=7)


def test_mnist_missing_root(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="`root`"):
        load_mnist_knn(None)
    with pytest.raises(DatasetNotFoundError, match="MNIST-test"):
        read_mnist_test(tmp_path)


def test_mnist_bad_magic(tmp_path):
    raw = tmp_path / "MNIST-test" / "raw"
    raw.mkdir(parents=True)
    with gzip.open(raw / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write((2049).to_bytes(4, "big") + bytes(12))
    with gzip.open(raw / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write((2049).to_bytes(4, "big") + (0).to_bytes(4, "big"))
    with pytest.raises(InvalidGraphError, match="magic"):
        read_mnist_test(tmp_path)


@pytest.mark.realdata
@pytest.mark.slow
def test_mnist_knn_real(shared_root):
    g = load_dataset("mnist-knn", root=str(shared_root))
    assert g.name == "mnist-knn"
    assert g.num_nodes == 10000 and g.num_features == 784 and g.num_classes == 10
    assert float(g.x.min()) >= 0 and float(g.x.max()) <= 1
    assert np.bincount(g.y.numpy()).min() > 800
    row, col = g.edge_index
    intra = float((g.y[row] == g.y[col]).double().mean())
    assert intra > 0.85  # kNN of MNIST is homophilous (measured 0.89)
    assert g.num_components == 1


# ---------------------------------------------------------------------- files
def _small_graph() -> Graph:
    ei = np.array([[0, 1, 2, 3, 0], [1, 2, 3, 4, 4]])
    x = np.arange(15, dtype=np.float32).reshape(5, 3)
    return Graph.from_edges(ei, 6, x=np.vstack([x, np.zeros((1, 3))]),
                            y=[0, 1, 0, 1, -1, 2], edge_weight=[1, 2, 3, 4, 0.5],
                            split={"train": [0, 1], "test": [2, 3]}, name="tiny")


def test_npz_round_trip(tmp_path):
    g = _small_graph()
    path = tmp_path / "out" / "tiny.npz"
    save_npz(g, path)
    assert [p.name for p in path.parent.iterdir()] == ["tiny.npz"]  # no temp file left
    h = load_file(str(path))
    assert h.num_nodes == 6 and h.name == "tiny"
    assert torch.equal(h.edge_index, g.edge_index)
    assert torch.equal(h.edge_weight, g.edge_weight)
    assert torch.equal(h.x, g.x) and torch.equal(h.y, g.y)
    assert set(h.split) == {"train", "test"} and torch.equal(h.split["test"], g.split["test"])


def test_npz_edges_key(tmp_path):
    path = tmp_path / "e.npz"
    np.savez(path, edges=np.array([[0, 1], [1, 2]]), y=np.array([0, 1, 1]))
    g = load_dataset(f"file:{path}")
    assert g.num_nodes == 3 and g.num_edges == 2 and g.edge_weight is None


def test_csv_with_header_and_comments(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text(
        "# a comment\nsrc,dst,weight\n0,1,0.5\n# another\n1, 2, 2.0\n2,0,1.0  # inline\n"
    )
    np.save(tmp_path / "g.features.npy", np.ones((4, 2), dtype=np.float32))
    np.save(tmp_path / "g.labels.npy", np.array([0, 1, 0, 1]))
    g = load_file(str(path))
    assert g.num_nodes == 4 and g.num_edges == 3 and g.num_features == 2
    assert g.num_components == 2  # node 3 is isolated
    a = g.adjacency()
    assert a[0, 1] == 0.5 and a[2, 1] == 2.0


def test_whitespace_edge_list(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 1\n1\t2\n\n3 2\n")
    g = load_file(str(path))
    assert g.num_nodes == 4 and g.num_edges == 3 and g.edge_weight is None


def test_corrupt_npz(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(InvalidGraphError, match="bad.npz"):
        load_file(str(path))
    keys = tmp_path / "keys.npz"
    np.savez(keys, foo=np.zeros(3))
    with pytest.raises(InvalidGraphError, match="edge_index"):
        load_file(str(keys))


def test_missing_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="nope.csv"):
        load_file(str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("text, match", [
    ("0,1\n1,2.5\n", "integers"),
    ("src,dst\n0,1\nfoo,2\n", "line 3"),
    ("0,1\n1,2,3,4\n", "line 2"),
    ("# only a comment\n", "no edges"),
])
def test_bad_edge_lists(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InvalidGraphError, match=match) as info:
        load_file(str(path))
    assert "bad.csv" in str(info.value)


def test_csv_with_a_pandas_index_column_and_a_typo_in_the_first_line(tmp_path):
    """A pandas CSV with its index (header ``,id_1,id_2``) reads the two id columns, not the
    index as a source and the ids as weights; a first line ``0,1O`` is bad data, not a header."""
    from graph_eigen.data import load_dataset
    from graph_eigen.errors import InvalidGraphError

    (tmp_path / "pandas.csv").write_text(",id_1,id_2\n0,0,1\n1,1,2\n2,2,3\n")
    g = load_dataset(f"file:{tmp_path / 'pandas.csv'}")
    assert g.num_nodes == 4 and g.num_edges == 3 and g.edge_weight is None
    (tmp_path / "typo.csv").write_text("0,1O\n1,2\n2,3\n")
    with pytest.raises(InvalidGraphError, match="line 1: cannot parse '0,1O'"):
        load_dataset(f"file:{tmp_path / 'typo.csv'}")
