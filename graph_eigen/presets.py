"""The defaults `graph-eigen train --dataset NAME` uses when no other option is given.

Graphs up to ``LARGE_GRAPH`` nodes with features: BASiS with the consistent (global) batch
operator, K = 48, on the attributed operator (feature_graph.py): the graph plus the
10-nearest-neighbor graphs of the raw and of the propagated features. Its eigenmap probes above
SGC on the five real graphs of docs/quality.md, where the graph's own eigenmap probes far below
it (Cora 31.0 against 77.1). The encoder is ``sign`` (an MLP on the features propagated over the
operator, seed-only batches), several times faster than GraphSAGE there and as accurate
(docs/quality.md). Wide features are projected to 128 dimensions once (truncated SVD).
Graphs without features get a free vector per node (``table``) trained by NeuralEF.

Larger graphs: neighbor-sampled GNN steps and an exact solve no longer fit in an hour on a
CPU (a products-size ``sage`` epoch took 66 minutes, eigsh at K = 64 more than 10 minutes).
There the encoder is ``sign``, an MLP on features propagated once over the graph, so a step
reads its seeds' rows only; the objective is NeuralEF with the ``targets`` estimator, whose
targets come from whole-graph sparse products a few times per run (see docs/large_graphs.md).
One place to change them.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from .config import TrainConfig

LARGE_GRAPH = 300_000  # nodes from which the large-graph configuration is the default
SMALL_GRAPH_DIM = 48  # K: wider embeddings probe worse (their late columns are noise to a 10% split)
FEATURE_KNN = 10  # neighbors per node in each feature kNN graph of the small-graph operator
TABLE_STEPS = 14_000  # NeuralEF + table: steps of the bank estimator (d_G 0.0066 on CS, K = 9)
TABLE_BATCH = 2048


def recommended_config(dataset: str, num_nodes: Optional[int] = None, objective: Optional[str] = None,
                       encoder: Optional[str] = None, has_features: bool = True) -> TrainConfig:
    """The defaults for ``dataset``: by graph size when ``num_nodes`` is known, and for the
    objective and encoder a user chose where those need settings of their own. A graph without
    node features (``has_features`` False) gets the graph alone as its operator."""
    base = large_graph_config(dataset) if num_nodes is not None and num_nodes >= LARGE_GRAPH \
        else small_graph_config(dataset)
    if not has_features:  # nothing to search neighbors in or to encode: a vector per node
        base = replace(base, feature_knn=0)
        if encoder is None and objective is None:
            return table_neuralef_config(base, num_nodes)
    if encoder == "table" and (objective or base.objective) == "neuralef":
        return table_neuralef_config(base, num_nodes)
    return base


def small_graph_config(dataset: str) -> TrainConfig:
    """BASiS (global operator) + the ``sign`` encoder on the attributed operator."""
    return TrainConfig(dataset=dataset, objective="basis", encoder="sign", dim=SMALL_GRAPH_DIM, hidden=256,
                       layers=2, hops=2, input_dim=128, epochs=40, batch_size=1024, fanouts=[10, 5], lr=0.01,
                       batch_operator="global", anchors=256, feature_knn=FEATURE_KNN,
                       feature_knn_source="both")


def table_neuralef_config(base: TrainConfig, num_nodes: Optional[int]) -> TrainConfig:
    """NeuralEF with a free vector per node: the ``bank`` estimator on every neighbor of 2,048
    seeds, SparseAdam at 0.05, about 14,000 steps. The ``targets`` estimator regresses a table
    too slowly (d_G 3.21 on CS, K = 9, with the defaults it used to get)."""
    steps_per_epoch = -(-(num_nodes or 18_333) // TABLE_BATCH)  # CS's size when unknown
    return replace(base, objective="neuralef", encoder="table", estimator="bank", batch_size=TABLE_BATCH,
                   fanouts=[-1], lr=0.05, epochs=-(-TABLE_STEPS // steps_per_epoch), checkpoint_every=1000)


def large_graph_config(dataset: str) -> TrainConfig:
    """NeuralEF (targets) + the ``sign`` encoder on seed-only batches: no sampling, no exact solve."""
    return TrainConfig(dataset=dataset, objective="neuralef", estimator="targets", encoder="sign", dim=64,
                       hidden=256, layers=2, input_dim=64, hops=2, epochs=12, batch_size=8192, lr=0.003,
                       checkpoint_every=100_000, target_filter="chebyshev", power=16)
