"""The defaults `graph-eigen train --dataset NAME` (and ``GraphEigen().fit``) use when no other
option is given. One place to change them.

Graphs with features, at every size, get one method: the attributed operator (the graph plus
the 10-nearest-neighbor graphs of the raw and of the propagated features, graph/knn.py), its
eigenmap restricted to the span of the ``sign`` encoder's input (the features propagated over
the operator; ``feature_span``: one Rayleigh-Ritz solve, feature_span.py), and that encoder as
the linear map computing it, set in closed form (``fit`` auto, one layer, closed_form.py): BASiS's
regression solved exactly, with no step. K = 48. Below 300,000 nodes its probe matches the exact
eigenmap of the same operator; on a real graph tiled to 256,662 nodes and more the exact eigenmap
falls 8 to 12 points under SGC where this one stays above it (docs/large_graphs.md), so no size
needs another method. A two-layer MLP trained by steps onto the same targets (``layers`` 2) probes
the same at many times the cost (docs/quality.md).

The batch and the number of epochs (:func:`batch_and_epochs`) matter only to a fit by steps:
batches of about n / 64 seeds (1,024 to 8,192) and about ``TRAIN_STEPS`` steps in all.

Graphs without features get the exact eigenmap of the graph as a free vector per node
(``table`` set to BASiS's ``global`` targets in closed form); NeuralEF with a table
(:func:`table_neuralef_config`) when asked for.
"""
from __future__ import annotations

from dataclasses import replace
from math import ceil
from typing import Optional

from graph_eigen.config import TrainConfig

DIM = 48  # K: wider embeddings probe worse on small graphs (their late columns are noise to a 10% split)
FEATURE_KNN = 10  # neighbors per node in each feature kNN graph of the operator
ANCHORS = 256  # BASiS anchors (at most half the graph)
MIN_BATCH, MAX_BATCH, NODES_PER_BATCH = 1024, 8192, 64  # batch = n / NODES_PER_BATCH within the bounds
TRAIN_STEPS = 720  # steps in all (40 epochs of Coauthor CS's 18 batches), within the epoch bounds
MIN_EPOCHS, MAX_EPOCHS = 2, 40
TABLE_STEPS = 14_000  # NeuralEF + table: steps of the bank estimator (d_G 0.0066 on CS, K = 9)
TABLE_BATCH = 2048


def recommended_config(dataset: str, num_nodes: Optional[int] = None, objective: Optional[str] = None,
                       encoder: Optional[str] = None, has_features: bool = True) -> TrainConfig:
    """The defaults for ``dataset``: batch, epochs and anchors by graph size when ``num_nodes``
    is known, and for the objective and encoder a user chose where those need settings of their
    own. A graph without node features (``has_features`` False) gets the graph alone as its
    operator."""
    base = default_config(dataset, num_nodes)
    if not has_features:  # nothing to search neighbors in or to encode: the exact eigenmap, as a table
        base = replace(base, feature_knn=0, batch_operator="global")
        if encoder is None and objective is None:
            return replace(base, encoder="table")
    if encoder == "table" and (objective or base.objective) == "neuralef":
        return table_neuralef_config(base, num_nodes)
    if encoder not in (None, "sign", "mlp", "resmlp"):  # GNNs read raw features, not the span's
        base = replace(base, batch_operator="global")
    return base


def default_config(dataset: str, num_nodes: Optional[int] = None) -> TrainConfig:
    """BASiS (``feature_span`` targets) + the ``sign`` encoder on the attributed operator."""
    batch_size, epochs = batch_and_epochs(num_nodes)
    anchors = ANCHORS if num_nodes is None else max(1, min(ANCHORS, num_nodes // 2))
    return TrainConfig(dataset=dataset, objective="basis", encoder="sign", dim=DIM, hidden=256,
                       layers=1, fit="auto", hops=2, input_dim=128, epochs=epochs, batch_size=batch_size,
                       fanouts=[10, 5], lr=0.01, batch_operator="feature_span", anchors=anchors,
                       feature_knn=FEATURE_KNN, feature_knn_source="both")


def batch_and_epochs(num_nodes: Optional[int]) -> tuple[int, int]:
    """Seeds per batch and epochs for a graph of ``num_nodes`` (unknown: a small graph's)."""
    n = num_nodes or 0
    batch = min(MAX_BATCH, max(MIN_BATCH, n // NODES_PER_BATCH))
    steps_per_epoch = max(1, ceil(n / batch))
    return batch, min(MAX_EPOCHS, max(MIN_EPOCHS, ceil(TRAIN_STEPS / steps_per_epoch)))


def table_neuralef_config(base: TrainConfig, num_nodes: Optional[int]) -> TrainConfig:
    """NeuralEF with a free vector per node: the ``bank`` estimator on every neighbor of 2,048
    seeds, SparseAdam at 0.05, about 14,000 steps. The ``targets`` estimator regresses a table
    too slowly (d_G 3.21 on CS, K = 9, with the defaults it used to get)."""
    steps_per_epoch = -(-(num_nodes or 18_333) // TABLE_BATCH)  # CS's size when unknown
    return replace(base, objective="neuralef", encoder="table", estimator="bank", batch_size=TABLE_BATCH,
                   fanouts=[-1], lr=0.05, epochs=-(-TABLE_STEPS // steps_per_epoch), checkpoint_every=1000)


def neuralef_sign_config(dataset: str) -> TrainConfig:
    """NeuralEF (``targets`` estimator) + ``sign`` on the graph alone, seed-only batches, no solve:
    the large-graph default before 2026-12-06, kept as a documented alternative
    (docs/large_graphs.md)."""
    return TrainConfig(dataset=dataset, objective="neuralef", estimator="targets", encoder="sign", dim=64,
                       hidden=256, layers=2, input_dim=64, hops=2, epochs=12, batch_size=8192, lr=0.003,
                       checkpoint_every=100_000, target_filter="chebyshev", power=16)
