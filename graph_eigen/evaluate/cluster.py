"""Clustering quality of an embedding: KMeans, then NMI and Hungarian-matched accuracy."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score


def clustering_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """ACC: the best one-to-one matching of clusters to classes (Hungarian algorithm)."""
    n_cls, n_clu = labels.max() + 1, clusters.max() + 1
    counts = np.zeros((n_clu, n_cls), dtype=np.int64)
    np.add.at(counts, (clusters, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(labels))


def kmeans_scores(embedding: np.ndarray, labels: np.ndarray, n_clusters: int | None = None, seed: int = 0) -> dict:
    """KMeans with one cluster per class on the rows of ``embedding``; NMI and ACC."""
    labels = np.asarray(labels)
    keep = labels >= 0
    emb, labels = np.asarray(embedding, dtype=np.float64)[keep], labels[keep]
    n_clusters = n_clusters or int(labels.max()) + 1
    clusters = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(emb)
    return {
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "acc": clustering_accuracy(labels, clusters),
    }
