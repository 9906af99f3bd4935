"""The defaults `graph-eigen train --dataset NAME` uses when no other option is given.

Graphs up to ``LARGE_GRAPH`` nodes: BASiS with the consistent (global) batch operator and a
GraphSAGE encoder, which reached d_G 0.096 on CS at K = 9 in 40 epochs (6 s per epoch here);
wide features are projected to 128 dimensions once (truncated SVD).

Larger graphs: neighbor-sampled GNN steps and an exact solve no longer fit in an hour on a
CPU (a products-size ``sage`` epoch took 66 minutes, eigsh at K = 64 more than 10 minutes).
There the encoder is ``sign``, an MLP on features propagated once over the graph, so a step
reads its seeds' rows only; the objective is NeuralEF with the ``targets`` estimator, whose
targets come from whole-graph sparse products a few times per run (see docs/large_graphs.md).
One place to change them.
"""
from __future__ import annotations

from typing import Optional

from .config import TrainConfig

LARGE_GRAPH = 300_000  # nodes from which the large-graph configuration is the default


def recommended_config(dataset: str, num_nodes: Optional[int] = None) -> TrainConfig:
    """The defaults for ``dataset``; ``num_nodes`` (when known) picks the large-graph ones."""
    if num_nodes is not None and num_nodes >= LARGE_GRAPH:
        return large_graph_config(dataset)
    return TrainConfig(dataset=dataset, objective="basis", encoder="sage", dim=64, hidden=256, layers=2,
                       input_dim=128, epochs=40, batch_size=1024, fanouts=[10, 5], lr=0.01,
                       batch_operator="global", anchors=256)


def large_graph_config(dataset: str) -> TrainConfig:
    """NeuralEF (targets) + the ``sign`` encoder on seed-only batches: no sampling, no exact solve."""
    return TrainConfig(dataset=dataset, objective="neuralef", estimator="targets", encoder="sign", dim=64,
                       hidden=256, layers=2, input_dim=64, hops=2, epochs=8, batch_size=8192, lr=0.003, checkpoint_every=100_000,
                       target_filter="chebyshev", power=16)
