"""The top right singular directions of node features: the projection that both the operator's kNN
search (``KNN_DIMS`` of them) and the encoder's input (``EncoderConfig.input_dim``) read wide
features through.

One randomized SVD (scikit-learn's) serves both: it is computed at the wider of the two widths and
the narrower projection is its leading columns, which approximate the top directions better than a
second, narrower SVD would (more oversampling). The last features seen (a tensor, by identity and
version) keep their directions, so a fit computes them once. Mostly-zero features (bag-of-words
graphs: about 1 % nonzero on Cora, CiteSeer and CS) are factored from a sparse copy, 3 to 4 times
faster than dense with the same result.
"""
from __future__ import annotations

import weakref
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch

KNN_DIMS = 512  # wider features are reduced to this many dimensions before the kNN search
SPARSE_BELOW = 0.1  # factor a sparse copy when fewer than this fraction of the entries are nonzero

_last: dict = {}  # the last features tensor seen: "ref", "version", "seed" and its "directions"


def feature_directions(features: torch.Tensor | np.ndarray, dims: int, seed: int = 0) -> Optional[np.ndarray]:
    """The F x ``dims`` projection of ``features`` (n x F) on their top ``dims`` right singular
    directions (float32), or None when ``dims`` is 0 or the features are no wider than it."""
    width = features.shape[1]
    if not dims or width <= dims:
        return None
    computed = max(dims, KNN_DIMS) if width > KNN_DIMS else dims
    if isinstance(features, torch.Tensor):
        ref, version = _last.get("ref"), _last.get("version")
        if (ref is not None and ref() is features and version == features._version
                and _last["seed"] == seed and _last["directions"].shape[1] >= dims):
            return _last["directions"][:, :dims]
        directions = _top_directions(features.numpy(), computed, seed)
        _last.update(ref=weakref.ref(features), version=features._version, seed=seed, directions=directions)
        return directions[:, :dims]
    return _top_directions(features, computed, seed)[:, :dims]


def _top_directions(features: np.ndarray, dims: int, seed: int) -> np.ndarray:
    from sklearn.utils.extmath import randomized_svd

    _, _, vt = randomized_svd(sparse_if_mostly_zeros(features), dims, random_state=seed)
    return np.ascontiguousarray(vt.T, dtype=np.float32)


def project(features: np.ndarray | sp.csr_matrix, projection: Optional[np.ndarray]) -> np.ndarray:
    """``features @ projection`` as a dense array (``features`` themselves without a projection),
    through a sparse copy when the features are mostly zeros (see :func:`sparse_if_mostly_zeros`)."""
    features = sparse_if_mostly_zeros(features)
    if projection is None:
        return features.toarray() if sp.issparse(features) else features
    if sp.issparse(features):
        return np.asarray(features @ projection, dtype=np.float32)
    return features @ projection


def sparse_if_mostly_zeros(features: np.ndarray | sp.csr_matrix) -> np.ndarray | sp.csr_matrix:
    """A CSR copy of dense ``features`` with fewer than ``SPARSE_BELOW`` nonzeros, so that products
    cost their nonzeros; other features unchanged (convert once to project several times)."""
    if sp.issparse(features) or np.count_nonzero(features) >= SPARSE_BELOW * features.size:
        return features
    return sp.csr_matrix(features)
