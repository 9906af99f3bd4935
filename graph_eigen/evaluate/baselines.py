"""Reference inputs for the linear probe: what a learned embedding has to beat.

- ``raw_features``: the node features alone;
- ``random_encoder``: the run's architecture (``build_model`` with its config), never trained;
- ``exact_eigenmap``: the exact first-``dim`` eigenvectors of L_sym;
- ``exact_eigenmap+features``: those concatenated with the raw features;
- ``sgc``: SGC's propagated features A_hat^2 X (A_hat = D~^-1/2 (A + I) D~^-1/2, as PyG's gcn_norm; propagation.py),
  the strongest of the reference probe figures we set ourselves on Photo (docs/results.md).
"""
from __future__ import annotations

import logging

import numpy as np

from ..graph import Graph
from .probe import linear_probe

log = logging.getLogger(__name__)


def random_encoder_embedding(graph: Graph, run_config) -> np.ndarray:
    """The embedding of a randomly initialized (untrained) model built from ``run_config``."""
    from ..embed import embed_graph
    from ..model import build_model

    return embed_graph(build_model(run_config, graph), graph)


def exact_eigenmap(graph: Graph, dim: int) -> np.ndarray:
    """The exact first ``dim`` eigenvectors of L_sym (n x dim, float32)."""
    from ..eigsolve import exact_eigenpairs

    return exact_eigenpairs(graph, dim).vectors.astype(np.float32)


def sgc_features(graph: Graph, hops: int = 2) -> np.ndarray:
    """A_hat^hops X with GCN normalization and self-loops (SGC's input to its linear classifier)."""
    from ..propagation import propagate

    return propagate(graph, graph.x, hops)[-1].numpy()


def probe_baselines(graph: Graph, dim: int, run_config=None, **probe_kwargs) -> dict[str, dict]:
    """Probe results of every baseline that applies, by name (see the module docstring).

    ``run_config`` (a TrainConfig) enables ``random_encoder``; ``probe_kwargs`` go to
    :func:`linear_probe` (``concat_features`` is set per baseline and ignored here).
    """
    probe_kwargs.pop("concat_features", None)
    probe_kwargs.pop("dims", None)
    out: dict[str, dict] = {}
    if graph.x is not None:
        out["raw_features"] = linear_probe(graph.x.numpy(), graph, **probe_kwargs)
        out["sgc"] = linear_probe(sgc_features(graph), graph, **probe_kwargs)
    else:
        log.info("no node features: skipping the raw-feature baselines")
    if run_config is not None:
        emb = random_encoder_embedding(graph, run_config)
        out["random_encoder"] = linear_probe(emb, graph, **probe_kwargs)
        out["random_encoder"]["encoder"] = run_config.encoder
    eigmap = exact_eigenmap(graph, dim)
    out["exact_eigenmap"] = linear_probe(eigmap, graph, **probe_kwargs)
    if graph.x is not None:
        out["exact_eigenmap+features"] = linear_probe(eigmap, graph, concat_features=True,
                                                      **probe_kwargs)
    return out
