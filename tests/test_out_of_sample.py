"""Out-of-sample embedding: a model trained on part of a graph embeds the whole graph."""
import json

import numpy as np
import pytest

from graph_eigen.cli.main import main

SBM = "sbm:n=600,classes=3,avg_degree=10,features=8,seed=0"


def test_model_trained_on_half_embeds_the_full_graph(tmp_path, capsys):
    half = np.sort(np.random.default_rng(0).permutation(600)[:300])
    np.save(tmp_path / "half.npy", half)
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--objective", "basis", "--encoder", "mlp", "--dim", "3",
                 "--hidden", "16", "--epochs", "2", "--batch-size", "64", "--fanouts", "3", "--anchors", "32",
                 "--train-nodes", str(tmp_path / "half.npy"), "--out", str(run), "--no-progress"]) == 0
    trained = np.load(run / "embeddings.npy")
    assert trained.shape == (300, 3)
    assert main(["embed", str(run), "--dataset", SBM, "--out", str(tmp_path / "full.npy")]) == 0
    full = np.load(tmp_path / "full.npy")
    assert full.shape == (600, 3) and np.isfinite(full).all()
    # an MLP reads only node features: the training nodes keep their rows exactly
    assert np.allclose(full[half], trained, atol=1e-6)
    sidecar = json.loads((tmp_path / "full.npy.json").read_text())
    assert sidecar["nodes"] == 600


def test_seed_nodes_keep_the_whole_graph_as_operator(tmp_path, monkeypatch):
    # seeds come only from the given nodes; the run still covers (and exports) the whole graph
    from graph_eigen.graph import sampling

    half = np.sort(np.random.default_rng(1).permutation(600)[:300])
    np.save(tmp_path / "half.npy", half)
    seen = []
    original = sampling.BatchSampler.sample

    def spy(self, seeds):
        seen.append(seeds.clone())
        return original(self, seeds)

    monkeypatch.setattr(sampling.BatchSampler, "sample", spy)
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--objective", "neuralef", "--estimator", "running",
                 "--encoder", "mlp", "--dim", "3", "--hidden", "16", "--epochs", "2", "--batch-size", "64",
                 "--fanouts", "3", "--seed-nodes", str(tmp_path / "half.npy"), "--out", str(run),
                 "--no-progress"]) == 0
    drawn = np.unique(np.concatenate([s.numpy() for s in seen]))
    assert set(drawn) == set(half)  # two epochs over the half, nothing else
    assert np.load(run / "embeddings.npy").shape == (600, 3)
    assert json.loads((run / "config.json").read_text())["seed_nodes"] == str(tmp_path / "half.npy")


def test_bad_seed_nodes_are_refused(tmp_path, capsys):
    np.save(tmp_path / "out_of_range.npy", np.array([0, 5, 600]))
    np.save(tmp_path / "floats.npy", np.array([0.5, 1.0]))
    base = ["train", "--dataset", SBM, "--encoder", "mlp", "--dim", "3", "--epochs", "1", "--no-progress"]
    for name, message in [("out_of_range.npy", "outside [0, 600)"), ("floats.npy", "integer node ids"),
                          ("missing.npy", "cannot read --seed-nodes")]:
        assert main(base + ["--objective", "basis", "--seed-nodes", str(tmp_path / name),
                            "--out", str(tmp_path / name[:-4])]) == 2
        assert message in capsys.readouterr().err
    for estimator in ("bank", "targets"):  # targets: with its default source, the bank
        assert main(base + ["--objective", "neuralef", "--estimator", estimator, "--seed-nodes",
                            str(tmp_path / "floats.npy"), "--out", str(tmp_path / "bank")]) == 2
        assert f"{estimator} estimator" in capsys.readouterr().err
    assert not (tmp_path / "bank").exists() and not (tmp_path / "out_of_range").exists()


def test_feature_knn_operator(tmp_path, capsys):
    # the attributed operator: the graph's links plus the features' kNN graph, used by train,
    # embed and eval alike
    from graph_eigen.data import load_dataset
    from graph_eigen.graph.knn import feature_knn_graph

    g = load_dataset(SBM)
    aug = feature_knn_graph(g, k=5, weight=0.5, source="both")  # the default source
    a, b = g.adjacency(), aug.adjacency()
    assert abs(b - b.T).max() == 0 and b.diagonal().max() == 0
    assert ((b - a).toarray() >= 0).all() and (b.nnz > a.nnz)
    extra = (b - a).tocsr()
    assert set(np.unique(np.round(extra.data, 6))) <= {0.5, 1.0, 1.5, 2.0}  # w per kNN edge and graph
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--objective", "basis", "--encoder", "sage", "--dim", "3",
                 "--hidden", "16", "--epochs", "1", "--batch-size", "64", "--fanouts", "3", "--anchors", "32",
                 "--feature-knn", "5", "--feature-knn-weight", "0.5", "--out", str(run), "--no-progress"]) == 0
    assert main(["eval", str(run)]) == 0
    report = json.loads((run / "eval.json").read_text())
    from graph_eigen.evaluate.spectral import subspace_distance
    from graph_eigen.spectral.eigsolve import exact_eigenpairs
    emb = np.load(run / "embeddings.npy")
    # eval compared with the eigenvectors of the augmented operator, not of the plain graph
    assert abs(report["d_G"] - subspace_distance(emb, exact_eigenpairs(aug, 3).vectors)) < 1e-6
    assert main(["exact", "--dataset", SBM, "--dim", "3", "--feature-knn", "5", "--feature-knn-weight", "0.5",
                 "--out", str(tmp_path / "exact.npy")]) == 0
    assert subspace_distance(np.load(tmp_path / "exact.npy"), exact_eigenpairs(aug, 3).vectors) < 1e-6
    assert main(["train", "--dataset", "sbm:n=50,classes=2,features=0,seed=0", "--encoder", "table", "--dim", "2",
                 "--feature-knn", "3", "--out", str(tmp_path / "nofeat"), "--no-progress"]) == 2
    assert "needs node features" in capsys.readouterr().err


def test_feature_knn_sources_add_their_own_knn_graphs():
    # raw: kNN of X; propagated: kNN of SGC's A_hat^2 X; both: the two graphs added
    import scipy.sparse as sp

    from graph_eigen.data import load_dataset
    from graph_eigen.errors import ConfigError
    from graph_eigen.graph.knn import feature_knn_graph, knn_adjacency
    from graph_eigen.graph.propagation import propagate

    g = load_dataset(SBM)
    a = g.adjacency()
    raw = knn_adjacency(g.x.numpy(), 5)
    smoothed = knn_adjacency(propagate(g, g.x, 2)[-1].numpy(), 5)
    assert abs(raw - smoothed).max() > 0  # the two feature spaces give different neighbors
    for source, expected in (("raw", a + raw), ("propagated", a + smoothed), ("both", a + raw + smoothed)):
        got = feature_knn_graph(g, k=5, weight=1.0, source=source).adjacency()
        assert abs(got - sp.csr_matrix(expected)).max() < 1e-9, source
    with pytest.raises(ConfigError, match="`feature_knn_source`"):
        feature_knn_graph(g, k=5, source="pixels")


def test_defaults_use_the_attributed_operator_only_where_there_are_features():
    from graph_eigen.config import TrainConfig
    from graph_eigen.errors import ConfigError
    from graph_eigen.runs.presets import recommended_config

    small = recommended_config("X", 10_000)
    assert (small.feature_knn, small.feature_knn_source) == (10, "both")
    featureless = recommended_config("X", 10_000, has_features=False)
    assert featureless.feature_knn == 0
    assert (featureless.encoder, featureless.objective, featureless.batch_operator) == ("table", "basis", "global")  # the exact eigenmap
    assert recommended_config("X", 2_449_029).feature_knn == 10  # the same operator at every size
    assert TrainConfig().feature_knn_source == "raw"  # what runs saved before the option had
    with pytest.raises(ConfigError, match="`feature_knn_source`"):
        TrainConfig(feature_knn_source="pixels").validate()


def test_wide_features_are_searched_in_their_top_singular_directions():
    # a rank-5 feature matrix in 300 dimensions: the projection on its top 16 singular
    # directions keeps every cosine similarity, so the neighbors are those of the full search
    from graph_eigen.graph.knn import knn_adjacency

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((400, 5)) @ rng.standard_normal((5, 300))).astype(np.float32)
    reduced, full = knn_adjacency(x, 6, dims=16), knn_adjacency(x, 6, dims=0)
    assert reduced.nnz == full.nnz and abs(reduced - full).max() == 0


def test_transform_new_nodes_of_the_enlarged_graph(tmp_path):
    """New nodes join the training graph: transform(full, nodes=new) gives exactly the rows a
    full embedding of the enlarged graph gives, and the old nodes' embedding does not move."""
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset
    from graph_eigen.errors import ConfigError

    full = load_dataset(SBM)
    new = np.sort(np.random.default_rng(3).permutation(600)[:120])
    old = np.setdiff1d(np.arange(600), new)
    model = GraphEigen(dim=3, epochs=3).fit(full.subgraph(old))
    before = model.embedding_.copy()
    rows = model.transform(full, nodes=new)
    assert rows.shape == (120, 3) and np.isfinite(rows).all()
    assert np.allclose(rows, model.transform(full)[new], atol=1e-6)
    assert np.array_equal(model.embedding_, before)
    for bad, message in [([0, 0], "more than once"), ([600], "outside"), ([0.5], "integer node ids")]:
        with pytest.raises(ConfigError, match=message):
            model.transform(full, nodes=np.array(bad))


def _train_without_new_nodes(tmp_path, count: int, seed: int, *options: str):
    """A run trained on SBM without ``count`` random (new) nodes, whose sorted ids are saved in
    tmp_path/new.npy (the others in old.npy); returns (run folder, new ids)."""
    new = np.sort(np.random.default_rng(seed).permutation(600)[:count])
    np.save(tmp_path / "old.npy", np.setdiff1d(np.arange(600), new))
    np.save(tmp_path / "new.npy", new)
    run = tmp_path / "run"
    assert main(["train", "--dataset", SBM, "--dim", "3", *options, "--train-nodes", str(tmp_path / "old.npy"),
                 "--out", str(run), "--no-progress"]) == 0
    return run, new


def test_embed_nodes_writes_their_rows_only(tmp_path, capsys):
    run, new = _train_without_new_nodes(tmp_path, 100, 4, "--epochs", "2")
    trained = np.load(run / "embeddings.npy")
    assert main(["embed", str(run), "--dataset", SBM, "--out", str(tmp_path / "all.npy")]) == 0
    assert main(["embed", str(run), "--dataset", SBM, "--nodes", str(tmp_path / "new.npy"),
                 "--out", str(tmp_path / "new_rows.npy")]) == 0
    assert np.allclose(np.load(tmp_path / "new_rows.npy"), np.load(tmp_path / "all.npy")[new], atol=1e-6)
    assert json.loads((tmp_path / "new_rows.npy.json").read_text())["node_ids"] == str(tmp_path / "new.npy")
    capsys.readouterr()
    assert main(["embed", str(run), "--dataset", SBM, "--nodes", str(tmp_path / "new.npy")]) == 2
    assert "needs --out" in capsys.readouterr().err
    assert np.array_equal(np.load(run / "embeddings.npy"), trained)  # the run's own file untouched


def test_embed_nodes_incrementally_writes_the_api_rows(tmp_path, capsys):
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset

    run, new = _train_without_new_nodes(tmp_path, 60, 8)
    trained = np.load(run / "embeddings.npy")
    assert main(["embed", str(run), "--dataset", SBM, "--nodes", str(tmp_path / "new.npy"), "--incremental",
                 "--out", str(tmp_path / "inc.npy")]) == 0
    expected = GraphEigen.load(run).transform(load_dataset(SBM), nodes=new, incremental=True)
    assert np.array_equal(np.load(tmp_path / "inc.npy"), expected)
    assert json.loads((tmp_path / "inc.npy.json").read_text())["node_ids"] == str(tmp_path / "new.npy")
    assert np.array_equal(np.load(run / "embeddings.npy"), trained)  # the old rows do not move
    capsys.readouterr()
    assert main(["embed", str(run), "--dataset", SBM, "--incremental", "--out", str(tmp_path / "x.npy")]) == 2
    assert "--nodes" in capsys.readouterr().err
    assert main(["embed", str(run), "--dataset", SBM, "--nodes", str(tmp_path / "new.npy"), "--incremental",
                 "--device", "cuda", "--out", str(tmp_path / "x.npy")]) == 2
    assert "runs on the CPU" in capsys.readouterr().err
    assert not (tmp_path / "x.npy").exists()


def test_table_encoder_refuses_out_of_sample():
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset
    from graph_eigen.errors import ConfigError

    graph = load_dataset("sbm:n=200,classes=2,avg_degree=8,features=0,seed=0")
    model = GraphEigen(dim=2, epochs=1).fit(graph)
    assert model.config_.encoder == "table"
    with pytest.raises(ConfigError, match="`table` encoder"):
        model.transform(graph)


def test_all_zero_feature_rows_get_no_knn_edges():
    """A blank feature row (CiteSeer has 15) is similar to nothing: before, every blank row was
    joined to the lowest ids, whose degree piled up."""
    from graph_eigen.graph.knn import knn_adjacency

    rng = np.random.default_rng(0)
    x = rng.random((300, 12))
    x[100:140] = 0.0
    knn = knn_adjacency(x, 5)
    degree = np.asarray(knn.sum(axis=1)).ravel()
    assert degree[100:140].max() == 0
    assert degree[:10].max() <= 20  # nobody collects the blank rows


def test_eigen_cache_key_depends_on_self_loops():
    from graph_eigen.graph.core import Graph
    from graph_eigen.spectral.cache import graph_fingerprint

    edges = np.array([[0, 1, 2], [1, 2, 3]])
    plain = Graph.from_edges(edges, num_nodes=4)
    looped = Graph.from_edges(edges, num_nodes=4, self_loop=np.ones(4))
    assert graph_fingerprint(plain) != graph_fingerprint(looped)


def test_incremental_rows_equal_the_full_transform_when_old_nodes_are_untouched():
    """New nodes without graph edges, on the plain graph operator (no kNN): their arrival changes
    nothing of the old nodes, so the kept-state rows equal a full transform's exactly."""
    import torch

    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset
    from graph_eigen.graph.core import Graph

    base = load_dataset(SBM)
    rng = np.random.default_rng(5)
    extra = torch.from_numpy(rng.standard_normal((40, base.num_features)).astype(np.float32))
    full = Graph.from_edges(base.edge_index, num_nodes=640, x=torch.cat([base.x, extra]), name="grown")
    new = np.arange(600, 640)
    model = GraphEigen(dim=3, epochs=2, encoder="sign", options={"feature_knn": 0}).fit(base)
    rows = model.transform(full, nodes=new, incremental=True)
    assert np.allclose(rows, model.transform(full, nodes=new), atol=1e-5)


def test_incremental_rows_stay_close_to_the_full_transform_on_the_default_operator():
    from graph_eigen import GraphEigen
    from graph_eigen.data import load_dataset
    from graph_eigen.errors import ConfigError

    full = load_dataset(SBM)
    new = np.random.default_rng(6).permutation(600)[:60]  # unsorted: rows follow the given order
    old = np.setdiff1d(np.arange(600), new)
    model = GraphEigen(dim=3, epochs=2).fit(full.subgraph(old))
    before = model.embedding_.copy()
    fast, exact = model.transform(full, nodes=new, incremental=True), model.transform(full, nodes=new)
    assert fast.shape == (60, 3) and np.array_equal(model.embedding_, before)
    assert np.linalg.norm(fast - exact) / np.linalg.norm(exact) < 0.3  # 0.21 measured: old nodes kept as trained
    with pytest.raises(ConfigError, match="trained on 540"):
        model.transform(full, nodes=new[:10], incremental=True)
    with pytest.raises(ConfigError, match="pass their ids"):
        model.transform(full, incremental=True)


def test_new_rows_find_their_neighbors_among_old_and_new_rows():
    from graph_eigen.graph.knn import FeatureSpace
    from graph_eigen.runs.extension import SearchSpace

    rng = np.random.default_rng(7)
    x = rng.standard_normal((300, 6)).astype(np.float32)
    x[5] = 0  # a blank old row is nobody's neighbor
    new = rng.standard_normal((20, 6)).astype(np.float32)
    rows, cols = SearchSpace.of(FeatureSpace(None, x)).neighbors(new, 4)  # 6 features: no projection
    unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    everything = unit(np.vstack([x, new]))
    sims = unit(new) @ everything.T
    sims[np.arange(20), 300 + np.arange(20)] = -np.inf  # not itself
    sims[:, 5] = -np.inf
    expected = np.argsort(-sims, axis=1)[:, :4]
    assert np.array_equal(np.bincount(rows, minlength=20), np.full(20, 4))
    for i in range(20):
        assert set(cols[rows == i]) == set(expected[i])


def test_new_rows_reuse_the_old_rows_lists_without_losing_recall():
    """Many new rows are filed under the trained lists of the old rows' IVF index (no k-means of
    their own), probing the share of lists an index of their own would: the same recall."""
    import faiss

    from graph_eigen.graph.neighbors import cosine_index, unit_rows

    rng = np.random.default_rng(3)
    centers = rng.standard_normal((20, 16)).astype(np.float32)
    draw = lambda n: unit_rows(centers[rng.integers(0, 20, n)] + 0.5 * rng.standard_normal((n, 16)).astype(np.float32))
    old, new = draw(8000), draw(2000)
    old_index = cosine_index(old, exact=False)
    lent = cosine_index(new, exact=False, quantizer=old_index.quantizer)
    own = cosine_index(new, exact=False)
    assert lent.ntotal == 2000 and lent.nlist == old_index.nlist and lent.nprobe > own.nprobe
    truth = faiss.IndexFlatIP(16)
    truth.add(new)
    _, best = truth.search(new[:300], 10)
    recall = lambda index: np.mean([len(set(a) & set(b)) / 10 for a, b in zip(index.search(new[:300], 10)[1], best)])
    assert recall(lent) >= recall(own) - 0.05 and recall(lent) > 0.6
