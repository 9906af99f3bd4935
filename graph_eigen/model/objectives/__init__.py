"""Training objectives. Each subclasses :class:`base.Objective` (the contract: ``setup``,
``loss(batch, psi) -> (loss, record)``, ``finalize``; see base.py); none holds a training loop.

``REGISTRY`` maps an objective's name (``--objective``) to the function that makes it from its
dimension and its own options (``TrainConfig.objective_params``); the modules are imported only
when their objective is made.
"""
from __future__ import annotations

from typing import Callable

from graph_eigen.errors import ConfigError
from graph_eigen.model.objectives.base import Objective, ObjectiveContext


def _neuralef(dim: int, **params) -> Objective:
    if params.get("estimator") == "targets":  # the function-space estimator has its own class
        from graph_eigen.model.objectives.neuralef_targets import NeuralEFTargets

        return NeuralEFTargets(dim, **params)
    from graph_eigen.model.objectives.neuralef import NeuralEF

    return NeuralEF(dim, **params)


def _basis(dim: int, **params) -> Objective:
    from graph_eigen.model.objectives.basis import BASiS

    return BASiS(dim, **params)


REGISTRY: dict[str, Callable[..., Objective]] = {"neuralef": _neuralef, "basis": _basis}
OBJECTIVES = tuple(REGISTRY)

__all__ = ["OBJECTIVES", "REGISTRY", "Objective", "ObjectiveContext", "build_objective"]


def build_objective(name: str, dim: int, **params) -> Objective:
    """Make an objective by name; ``params`` are its own options."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown objective '{name}'; choose one of {', '.join(OBJECTIVES)}")
    return REGISTRY[name](dim, **params)
