"""PyG loaders on the shared real datasets, and the OGB path on graphs written in OGB's layout."""
import builtins
import gzip
import os

import numpy as np
import pytest
import torch

from graph_eigen.data.ogb import load_ogb, ogb_evaluator
from graph_eigen.data.ogb_layout import write_ogb_layout
from graph_eigen.data.pyg import load_pyg
from graph_eigen.errors import DatasetNotFoundError
from graph_eigen.graph.core import Graph


@pytest.fixture
def no_prompt(monkeypatch):
    """Fail the test if anything calls input() (as with no terminal attached)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected interactive prompt: {args}")

    monkeypatch.setattr(builtins, "input", refuse)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GRAPH_EIGEN_CACHE", str(cache))
    return cache


def _listing(root) -> list:
    out = []
    for dirpath, dirnames, files in os.walk(root):
        for name in sorted(dirnames + files):
            st = os.stat(os.path.join(dirpath, name))
            out.append((os.path.relpath(os.path.join(dirpath, name), root), st.st_size, st.st_mtime))
    return sorted(out)


def _small_graph(n=60, seed=0) -> Graph:
    rng = np.random.default_rng(seed)
    edges = rng.integers(0, n, size=(2, 4 * n))
    return Graph.from_edges(edges, n, x=rng.normal(size=(n, 5)), y=rng.integers(0, 3, n))


def _random_split(n, seed=1) -> dict:
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    return {"train": perm[: n // 5], "valid": perm[n // 5 : n // 3], "test": perm[n // 3 :]}


def _same_split(a: dict, b: dict) -> bool:
    return all(set(a[k].tolist()) == set(b[k].tolist()) for k in ("train", "valid", "test"))


# ---------------------------------------------------------------------- PyG, real data
@pytest.mark.realdata
def test_cora(shared_root):
    g = load_pyg("Cora", str(shared_root))
    assert (g.num_nodes, g.num_edges, g.num_features, g.num_classes) == (2708, 5278, 1433, 7)
    assert g.y.dtype == torch.long
    assert {k: len(v) for k, v in g.split.items()} == {"train": 140, "valid": 500, "test": 1000}


@pytest.mark.realdata
def test_photo(shared_root):
    g = load_pyg("Photo", str(shared_root))
    assert (g.num_nodes, g.num_features, g.num_classes) == (7650, 745, 8)
    assert g.split is None and g.name == "Photo"


@pytest.mark.realdata
def test_cs(shared_root):
    g = load_pyg("CS", str(shared_root))
    assert g.num_nodes == 18333 and g.num_components == 1


@pytest.mark.realdata
def test_actor_has_fixed_split(shared_root):
    g = load_pyg("Actor", str(shared_root))
    assert g.num_nodes == 7600 and g.num_classes == 5
    sizes = {k: len(v) for k, v in g.split.items()}
    assert sizes == {"train": 3648, "valid": 2432, "test": 1520}
    assert len(torch.cat(list(g.split.values())).unique()) == sum(sizes.values())


@pytest.mark.realdata
def test_shared_root_is_not_written(shared_root, fresh_cache):
    before = _listing(shared_root)
    for name in ("Cora", "DBLP"):
        load_pyg(name, str(shared_root))
    assert _listing(shared_root) == before
    assert not any("processed" in path for path, _, _ in _listing(shared_root))
    assert any(p.name == "processed" for p in fresh_cache.rglob("*"))


def test_missing_dataset_raises(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="Cora"):
        load_pyg("Cora", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="Actor"):
        load_pyg("Actor", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="ogbn_products"):
        load_ogb("ogbn-products", str(tmp_path))


# ---------------------------------------------------------------------- OGB layout
@pytest.mark.realdata
def test_ogb_round_trip_on_cora(shared_root, tmp_path, no_prompt, fresh_cache):
    cora = load_pyg("Cora", str(shared_root))
    split = _random_split(cora.num_nodes)
    root = tmp_path / "ogb"
    folder = write_ogb_layout(cora, str(root), "ogbn-products", split=split)

    with gzip.open(os.path.join(folder, "raw", "edge.csv.gz"), "rt") as f:
        edges = np.loadtxt(f, delimiter=",", dtype=np.int64)
    assert (edges[:, 0] == edges[:, 1]).any()  # the file mimics products' self-loops

    g = load_ogb("ogbn-products", str(root))
    assert g.name == "ogbn-products"
    assert (g.num_nodes, g.num_edges, g.num_features) == (2708, 5278, 1433)
    assert not (g.edge_index[0] == g.edge_index[1]).any()
    assert torch.equal(g.edge_index, cora.edge_index)
    assert torch.equal(g.y, cora.y) and torch.allclose(g.x, cora.x)
    assert _same_split(g.split, split)

    source = _listing(root)
    processed = next(fresh_cache.rglob("geometric_data_processed.pt"))
    mtime = processed.stat().st_mtime
    again = load_ogb("ogbn-products", str(root))  # reads the processed file with torch.load
    assert processed.stat().st_mtime == mtime  # not processed a second time
    assert _listing(root) == source  # nothing written into the source root
    assert torch.equal(again.edge_index, g.edge_index) and _same_split(again.split, split)


def test_ogb_round_trip_small(tmp_path, no_prompt, fresh_cache):
    graph = _small_graph()
    folder = write_ogb_layout(graph, str(tmp_path / "ogb"), seed=3)
    for rel in ("RELEASE_v1.txt", "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz",
                "raw/node-label.csv.gz", "raw/node-feat.csv.gz",
                "split/sales_ranking/test.csv.gz"):
        assert os.path.isfile(os.path.join(folder, rel)), rel
    g = load_ogb("ogbn-products", str(tmp_path / "ogb"))
    assert torch.equal(g.edge_index, graph.edge_index)
    sizes = [len(g.split[k]) for k in ("train", "valid", "test")]
    assert sum(sizes) == graph.num_nodes and sizes[0] < sizes[2]


def test_ogb_release_file_missing_does_not_prompt(tmp_path, no_prompt, fresh_cache):
    root = tmp_path / "ogb"
    folder = write_ogb_layout(_small_graph(), str(root))
    os.remove(os.path.join(folder, "RELEASE_v1.txt"))
    before = _listing(root)
    g = load_ogb("ogbn-products", str(root))
    assert g.num_nodes == 60
    assert _listing(root) == before  # the release file went into the cache copy only
    # a cache copy that lost its release file does not prompt either
    for release in fresh_cache.rglob("RELEASE_v1.txt"):
        release.unlink()
    assert load_ogb("ogbn-products", str(root)).num_nodes == 60


def test_ogb_arxiv_layout_has_node_year(tmp_path, no_prompt, fresh_cache):
    graph = _small_graph()
    split = _random_split(graph.num_nodes)
    folder = write_ogb_layout(graph, str(tmp_path), "ogbn-arxiv", split=split)
    assert os.path.isfile(os.path.join(folder, "raw", "node_year.csv.gz"))
    g = load_ogb("ogbn-arxiv", str(tmp_path))
    assert torch.equal(g.edge_index, graph.edge_index) and _same_split(g.split, split)


def test_ogb_evaluator():
    evaluator = ogb_evaluator("ogbn-products")
    y = torch.tensor([[0], [1], [2], [1]])
    assert evaluator.eval({"y_true": y, "y_pred": y})["acc"] == 1.0
