"""BASiS in its paper's setting: the paper's kNN kernel, RANSAC's threshold scale, the paper's
d_G formula, the mnist-siamese dataset and self-loops in the graph and the sampler."""
import json

import numpy as np
import pytest

from graph_eigen.config import TrainConfig
from graph_eigen.data import dataset_names, load_dataset
from graph_eigen.data.mnist import load_mnist_siamese
from graph_eigen.errors import ConfigError, DatasetNotFoundError, InvalidGraphError
from graph_eigen.evaluate.spectral import grassmann_paper_formula, subspace_distance
from graph_eigen.graph.core import Graph
from graph_eigen.graph.knn import BASIS_KNN, knn_graph
from graph_eigen.graph.operators import normalized_adjacency
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives.alignment import apply_affine, fit_affine, fit_affine_ransac


def two_blobs(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0, 1, (n, 3)), rng.normal(8, 1, (n, 3))]).astype(np.float32)


# ---------------------------------------------------------------------- the paper's kernel
def test_basis_kernel_matches_its_definition():
    pts = two_blobs()
    k, scale = 6, 4
    g = knn_graph(pts, k=k, local_scale_neighbor=scale, kernel="basis")
    a = g.adjacency().toarray()
    # the definition, written out densely: the point itself is neighbor 1, sigma_i its scale-th
    d = np.linalg.norm(pts[:, None, :].astype(np.float64) - pts[None, :, :], axis=2)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    sigma = np.take_along_axis(d, order, axis=1)[:, scale - 1]
    w = np.zeros_like(d)
    for i in range(len(pts)):
        w[i, order[i]] = np.exp(-(d[i, order[i]] / sigma[i]) ** 2)
    expected = (w + w.T) / 2
    assert np.allclose(a, expected, atol=1e-4)
    assert np.allclose(np.diag(a), 1.0)  # self-loop kept, exp(0)
    assert np.allclose(g.degree.numpy(), expected.sum(axis=1), atol=1e-5)
    # averaging: a non-mutual neighbor keeps half its weight (max-symmetrization would keep all)
    one_way = (w > 0) & (w.T == 0)
    assert one_way.any() and np.allclose(a[one_way], w[one_way] / 2, atol=1e-4)
    assert g.num_components == 2


def test_self_tuning_kernel_unchanged_and_kernel_names_checked():
    g = knn_graph(two_blobs(), k=6, local_scale_neighbor=4)
    assert g.self_loop is None and g.adjacency().diagonal().sum() == 0
    with pytest.raises(ConfigError, match="kernel"):
        knn_graph(two_blobs(), kernel="gaussian")


def test_self_loops_survive_subgraph_and_enter_the_sampled_kernel():
    g = knn_graph(two_blobs(), kernel="basis", **{k: v for k, v in BASIS_KNN.items() if k != "kernel"})
    sub = g.subgraph(np.arange(0, 120, 2))
    assert sub.self_loop is not None and np.allclose(sub.adjacency().diagonal(), 1.0)
    # the full batch's kernel is exactly D^-1/2 (W + diag) D^-1/2
    batch = BatchSampler(g, 0, [-1], with_features=False).full_batch()
    dense = batch.kernel.to_dense().numpy()
    assert np.allclose(dense, normalized_adjacency(g).toarray(), atol=1e-6)
    with pytest.raises(InvalidGraphError, match="self_loop"):
        Graph.from_edges(np.array([[0], [1]]), 2, self_loop=[1.0])


# ---------------------------------------------------------------------- RANSAC scale
def test_ransac_threshold_is_absolute_on_unit_norm_columns():
    rng = np.random.default_rng(0)
    m, k = 512, 10
    unit = np.linalg.qr(rng.standard_normal((m, k)))[0]  # unit-norm columns, as the original's
    anchors = 250
    transform = np.hstack([rng.standard_normal((k, k)), rng.standard_normal((k, 1))])
    target = unit[:anchors]
    source = (target - transform[:, -1]) @ np.linalg.inv(transform[:, :-1]).T
    noisy = target.copy()
    noisy[:40] += 0.5 * rng.standard_normal((40, k))  # outliers far above 0.1
    noisy[40:] += 0.005 * rng.standard_normal((anchors - 40, k))  # inliers well below 0.1
    # the original's scale (unit-norm columns, threshold 0.1) and ours (columns scaled by
    # sqrt(m) to unit mean square) must pick the same inliers and give the same transform
    t_unit = fit_affine_ransac(source, noisy, threshold=0.1, seed=3)
    s = np.sqrt(m)
    t_scaled = fit_affine_ransac(source * s, noisy * s, threshold=0.1, seed=3, column_scale=s)
    assert np.allclose(apply_affine(t_unit, source), apply_affine(t_scaled, source * s) / s, atol=1e-8)
    clean = np.abs(apply_affine(t_unit, source)[40:] - target[40:]).max()
    naive = np.abs(apply_affine(fit_affine(source, noisy), source)[40:] - target[40:]).max()
    assert clean < 0.02 < naive  # the outliers were rejected; least squares is pulled by them
    with pytest.raises(ConfigError, match="threshold"):
        fit_affine_ransac(source, noisy, threshold=0.0)


def test_ransac_threshold_is_an_option():
    assert TrainConfig().ransac_threshold == 0.1
    cfg = TrainConfig(objective="basis", ransac=True, ransac_threshold=0.2, knn_kernel="basis")
    params = cfg.validate().objective_params()
    assert params["ransac_threshold"] == 0.2 and params["knn_kernel"] == "basis"
    with pytest.raises(ConfigError, match="`ransac_threshold`"):
        TrainConfig(ransac_threshold=-1).validate()
    with pytest.raises(ConfigError, match="`knn_kernel`"):
        TrainConfig(knn_kernel="rbf").validate()


# ---------------------------------------------------------------------- the paper's d_G formula
def test_paper_formula_equals_true_distance_for_orthonormal_columns():
    rng = np.random.default_rng(1)
    a = np.linalg.qr(rng.standard_normal((200, 5)))[0]
    b = np.linalg.qr(a + 0.1 * rng.standard_normal((200, 5)))[0]
    assert grassmann_paper_formula(a, b) == pytest.approx(subspace_distance(a, b), abs=1e-10)


def test_paper_formula_is_not_a_distance():
    rng = np.random.default_rng(2)
    base = rng.standard_normal((300, 1))
    a = base + 0.05 * rng.standard_normal((300, 3))  # three nearly equal columns
    assert subspace_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert grassmann_paper_formula(a, a) < -1.0  # s_1 near 3 > 1: negative "distance" to itself


# ---------------------------------------------------------------------- the mnist-siamese dataset
def test_mnist_siamese_errors(tmp_path):
    assert "mnist-siamese" in dataset_names()
    with pytest.raises(DatasetNotFoundError, match="`root`"):
        load_mnist_siamese(None)
    with pytest.raises(DatasetNotFoundError, match="not found"):
        load_dataset("mnist-siamese", str(tmp_path))
    folder = tmp_path / "MNIST-siamese"
    folder.mkdir()
    np.savez(folder / "mnist_test_siamese.npz", x=np.zeros((5, 16), np.float32))
    with pytest.raises(InvalidGraphError, match="'y'"):
        load_dataset("mnist-siamese", str(tmp_path))


def test_mnist_siamese_small_file(tmp_path):
    folder = tmp_path / "MNIST-siamese"
    folder.mkdir()
    x = two_blobs(30)
    np.savez(folder / "mnist_test_siamese.npz", x=x, y=np.repeat([0, 1], 30))
    g = load_dataset("mnist-siamese", str(tmp_path))
    assert g.name == "mnist-siamese" and g.num_nodes == 60 and g.num_classes == 2
    assert np.allclose(g.adjacency().diagonal(), 1.0)
    g6 = load_dataset("mnist-siamese:k=6,scale=3", str(tmp_path))
    assert np.diff(g6.adjacency().indptr).min() >= 6  # itself and at least 5 others
    with pytest.raises(ConfigError, match="kernel"):
        load_dataset("mnist-siamese:kernel=rbf", str(tmp_path))


@pytest.mark.realdata
@pytest.mark.slow
def test_mnist_siamese_real(shared_root):
    from graph_eigen.spectral.eigsolve import exact_eigenpairs

    g = load_dataset("mnist-siamese", root=str(shared_root))
    assert g.num_nodes == 10000 and g.num_features == 16 and g.num_classes == 10
    row, col = g.edge_index
    assert float((g.y[row] == g.y[col]).double().mean()) > 0.95
    values = exact_eigenpairs(g, 11).values
    assert values[9] < 0.005 < values[10]  # the eigengap after K = 10 that pixels lack


def test_basis_knn_operator_with_paper_kernel_and_ransac_trains(tmp_path):
    from graph_eigen.runs.recorder import train

    g = knn_graph(two_blobs(100), kernel="basis", **{k: v for k, v in BASIS_KNN.items() if k != "kernel"})
    cfg = TrainConfig(dataset="blobs", objective="basis", encoder="mlp", dim=4, hidden=32, layers=2, epochs=2,
                      batch_size=60, fanouts=[1], lr=1e-3, batch_operator="knn", knn_kernel="basis", anchors=40,
                      ransac=True, seed=0)
    model = train(cfg, g, tmp_path / "run", progress=False)
    # the reference came from a batch of 40 anchors + 60 seeds: its columns are sqrt(100) x unit norm
    assert float(model.objective.reference_scale[0]) == pytest.approx(10.0)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 * 3 and all(np.isfinite(json.loads(x)["loss"]) for x in lines)


def test_report_names_both_distances():
    from graph_eigen.evaluate.report import spectral_report
    from graph_eigen.spectral.eigsolve import exact_eigenpairs

    pts = two_blobs(40)
    g = knn_graph(pts, labels=np.repeat([0, 1], 40), kernel="basis", k=6, local_scale_neighbor=4)
    exact = exact_eigenpairs(g, 3).vectors
    nodes = np.arange(0, 80, 3)
    report = spectral_report(exact, g, nodes=nodes)
    assert report["d_G"] == pytest.approx(0.0, abs=1e-8)
    assert report["d_G_paper_formula"] == pytest.approx(
        grassmann_paper_formula(exact[nodes], exact[nodes]), abs=1e-12)
    assert "not a distance" in report["d_G_paper_formula_note"]
    from graph_eigen.evaluate.cluster import kmeans_scores

    assert report["clustering_learned_on_nodes"] == kmeans_scores(exact[nodes], g.y.numpy()[nodes])
