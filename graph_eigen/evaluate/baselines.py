"""Reference inputs for the linear probe: what a learned embedding has to beat.

- ``raw_features``: the node features alone;
- ``random_encoder``: the run's architecture (``build_model`` with its config), never trained;
- ``exact_eigenmap``: the exact first-``dim`` eigenvectors of L_sym;
- ``exact_eigenmap+features``: those concatenated with the raw features;
- ``sgc``: SGC's propagated features A_hat^2 X (A_hat = D~^-1/2 (A + I) D~^-1/2, as PyG's gcn_norm; graph/propagation.py),
  the strongest of the reference probe figures we set ourselves on Photo (docs/results.md);
- ``sklearn_spectral_embedding``: scikit-learn's ``SpectralEmbedding`` of the adjacency (the
  tool a user would reach for first; its eigenvectors are scaled by D^-1/2 and it drops none);
- ``exact_eigenmap_run_operator``: where a run trained on another operator than the plain graph
  (``--feature-knn``), the exact eigenmap of that operator too.
"""
from __future__ import annotations

import logging

import numpy as np

from graph_eigen.evaluate.probe import linear_probe
from graph_eigen.graph.core import Graph

log = logging.getLogger(__name__)


def random_encoder_embedding(graph: Graph, run_config) -> np.ndarray:
    """The embedding of a randomly initialized (untrained) model built from ``run_config``."""
    from graph_eigen.model.build import build_model

    return build_model(run_config, graph).embed(graph)


def exact_eigenmap(graph: Graph, dim: int) -> np.ndarray:
    """The exact first ``dim`` eigenvectors of L_sym (n x dim, float32)."""
    from graph_eigen.spectral.eigsolve import exact_eigenpairs

    return exact_eigenpairs(graph, dim).vectors.astype(np.float32)


def feature_span_eigenmap(graph: Graph, dim: int, hops: int = 2, input_dim: int = 128, seed: int = 0) -> np.ndarray:
    """The eigenmap of ``graph``'s operator restricted to the ``sign`` encoder's input span (the
    features projected to ``input_dim`` and propagated ``hops`` times): the default's targets,
    solved without training (n x dim, float32)."""
    from graph_eigen.graph.operators import normalized_adjacency
    from graph_eigen.model.encoders import EncoderConfig, build_encoder
    from graph_eigen.spectral.feature_span import feature_span_eigenpairs

    encoder = build_encoder("sign", graph, dim, EncoderConfig("sign", hops=hops, input_dim=input_dim), seed=seed)
    inputs = encoder.prepare(graph).x.numpy()
    return feature_span_eigenpairs(normalized_adjacency(graph), inputs, dim).vectors


def sgc_features(graph: Graph, hops: int = 2) -> np.ndarray:
    """A_hat^hops X with GCN normalization and self-loops (SGC's input to its linear classifier)."""
    from graph_eigen.graph.propagation import propagate_last

    return propagate_last(graph, graph.x, hops).numpy()


def sklearn_spectral_embedding(graph: Graph, dim: int, seed: int = 0) -> np.ndarray:
    """scikit-learn's SpectralEmbedding of the (weighted) adjacency, ``dim`` columns.

    Its AMG solver (pyamg) is used: arpack takes minutes from about 10^4 nodes on.
    """
    from sklearn.manifold import SpectralEmbedding

    solver = "amg" if graph.num_nodes > 2000 else "arpack"
    emb = SpectralEmbedding(n_components=dim, affinity="precomputed", eigen_solver=solver,
                            random_state=seed).fit_transform(graph.adjacency())
    return emb.astype(np.float32)


def probe_baselines(graph: Graph, dim: int, run_config=None, run_graph: Graph | None = None,
                    **probe_kwargs) -> dict[str, dict]:
    """Probe results of every baseline that applies, by name (see the module docstring).

    ``run_config`` (a TrainConfig) enables ``random_encoder``; ``run_graph`` (the operator the
    run trained on, when it is not ``graph`` itself) enables ``exact_eigenmap_run_operator`` and
    is the graph the untrained encoder reads;
    ``probe_kwargs`` go to :func:`linear_probe` (``concat_features`` is set per baseline and
    ignored here).
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
        emb = random_encoder_embedding(run_graph if run_graph is not None else graph, run_config)
        out["random_encoder"] = linear_probe(emb, graph, **probe_kwargs)
        out["random_encoder"]["encoder"] = run_config.encoder
    eigmap = exact_eigenmap(graph, dim)
    out["exact_eigenmap"] = linear_probe(eigmap, graph, **probe_kwargs)
    if graph.x is not None:
        out["exact_eigenmap+features"] = linear_probe(eigmap, graph, concat_features=True,
                                                      **probe_kwargs)
    if run_graph is not None and run_graph is not graph:
        out["exact_eigenmap_run_operator"] = linear_probe(exact_eigenmap(run_graph, dim), graph, **probe_kwargs)
    out["sklearn_spectral_embedding"] = linear_probe(sklearn_spectral_embedding(graph, dim), graph,
                                                     **probe_kwargs)
    return out
