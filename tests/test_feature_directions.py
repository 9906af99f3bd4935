"""The features' top singular directions: one SVD shared by the kNN search and the encoder."""
import numpy as np
import scipy.sparse as sp
import torch

from graph_eigen.graph import directions
from graph_eigen.graph.directions import feature_directions, project


def _bag_of_words(n: int = 600, width: int = 700, seed: int = 0) -> np.ndarray:
    """Mostly-zero count features (about 2 % nonzero), as Cora or CS have."""
    rng = np.random.default_rng(seed)
    x = sp.random(n, width, density=0.02, random_state=seed, format="csr", dtype=np.float32)
    x.data[:] = rng.integers(1, 4, x.nnz)
    return x.toarray()


def test_the_encoder_width_reuses_the_knn_search_directions(monkeypatch):
    x = torch.from_numpy(_bag_of_words())
    calls = []
    compute = directions._top_directions
    monkeypatch.setattr(directions, "_top_directions", lambda f, d, s: calls.append(d) or compute(f, d, s))
    wide = feature_directions(x, directions.KNN_DIMS)
    narrow = feature_directions(x, 128)
    assert calls == [directions.KNN_DIMS]  # one SVD, at the search's width
    assert wide.shape == (700, 512) and np.array_equal(narrow, wide[:, :128])
    x.mul_(2.0)  # changed in place: its directions are computed again
    feature_directions(x, 128)
    assert calls == [directions.KNN_DIMS, directions.KNN_DIMS]


def test_sparse_and_dense_factoring_find_the_same_directions(monkeypatch):
    x = _bag_of_words()
    sparse = feature_directions(x, 32)
    monkeypatch.setattr(directions, "SPARSE_BELOW", 0.0)  # never sparse
    dense = feature_directions(x, 32)
    overlap = np.linalg.svd(sparse.T @ dense, compute_uv=False)
    assert np.allclose(overlap, 1.0, atol=1e-4)


def test_projection_through_a_sparse_copy_equals_the_dense_product():
    x = _bag_of_words()
    p = np.random.default_rng(1).standard_normal((700, 16)).astype(np.float32)
    assert np.allclose(project(x, p), x @ p, atol=1e-4)
    assert np.array_equal(project(x, None), x)
    assert project(sp.csr_matrix(x), None).shape == x.shape  # dense out, also without a projection
    assert feature_directions(x, 700) is None and feature_directions(x, 0) is None
