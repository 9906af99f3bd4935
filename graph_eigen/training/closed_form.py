"""The closed-form fit: a linear encoder set to the least-squares fit of whole-graph targets.

BASiS with whole-graph targets (``feature_span`` or ``global``) regresses the encoder onto fixed
rows T (n x K). When the encoder is linear in its prepared input Z (``sign`` or ``mlp`` with one
layer), the regression has a closed form, W = argmin ||[Z, 1] W - T||, which gradient steps only
approach. For ``feature_span`` targets T lies in span([Z, 1]) itself, so W reproduces T exactly
(the feature-span eigenmap) and embeds new nodes from their feature rows, with no step taken.
Measured against the same regression by steps in docs/quality.md.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.model.build import Model

LINEAR_ENCODERS = ("sign", "mlp")


def closed_form_applies(cfg: TrainConfig) -> bool:
    """Whether ``cfg`` describes a regression with a closed form (see the module docstring); a
    ``table`` (a free row per node) fits its targets exactly: they become the table."""
    from graph_eigen.model.objectives.basis import WHOLE_GRAPH

    linear = (cfg.encoder in LINEAR_ENCODERS and cfg.layers == 1) or cfg.encoder == "table"
    return cfg.objective == "basis" and cfg.batch_operator in WHOLE_GRAPH and linear


def uses_closed_form(cfg: TrainConfig) -> bool:
    """``fit`` resolved: ``closed_form`` (refused where it does not apply), ``auto`` (where it
    applies) or ``steps``."""
    if cfg.fit == "closed_form" and not closed_form_applies(cfg):
        raise ConfigError("`fit` closed_form needs BASiS with whole-graph targets (`batch_operator` feature_span "
                          "or global) and a linear encoder (`encoder` sign or mlp with `layers` 1, or table); "
                          "use `fit` steps or auto")
    return cfg.fit == "closed_form" or (cfg.fit == "auto" and closed_form_applies(cfg))


def fit_linear_encoder(model: Model, graph: Graph) -> dict:
    """Set ``model``'s linear encoder to the least-squares fit of its objective's whole-graph
    targets on ``graph`` (prepared by the encoder); returns the record of the fit."""
    from graph_eigen.spectral.feature_span import least_squares_coefficients

    started = time.perf_counter()
    targets = model.objective.whole_graph_targets()
    if hasattr(model.encoder, "table"):  # a free row per node: the targets themselves
        with torch.no_grad():
            model.encoder.table.copy_(torch.from_numpy(np.ascontiguousarray(targets)).float())
        return {"step": 0, "fit": "closed_form", "relative_error": 0.0, "seconds": time.perf_counter() - started}
    layer = model.encoder.net.lins[0]
    weights = least_squares_coefficients(graph.x.numpy(), targets)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weights[:-1].T.copy()).float())
        layer.bias.copy_(torch.from_numpy(weights[-1].copy()).float())
        fitted = model.encoder.apply_rows(graph.x[:min(graph.num_nodes, 65536)].to(layer.weight.device)).cpu().numpy()
    rows = targets[:len(fitted)]
    error = float(np.linalg.norm(fitted - rows) / max(np.linalg.norm(rows), 1e-300))
    return {"step": 0, "fit": "closed_form", "relative_error": error, "seconds": time.perf_counter() - started}
