"""Training objectives. Each is an nn.Module with ``loss(batch, psi) -> (loss, metrics)`` and
``finalize(psi_all) -> embedding``; none holds a training loop."""
from __future__ import annotations

from ..errors import ConfigError

OBJECTIVES = ("neuralef", "basis")


def build_objective(name: str, dim: int, **params):
    """Make an objective by name; ``params`` are its own options."""
    if name == "neuralef" and params.get("estimator") == "targets":
        from .neuralef_targets import NeuralEFTargets

        return NeuralEFTargets(dim, **params)
    if name == "neuralef":
        from .neuralef import NeuralEF

        return NeuralEF(dim, **params)
    if name == "basis":
        from .basis import BASiS

        return BASiS(dim, **params)
    raise ConfigError(f"unknown objective '{name}'; choose one of {', '.join(OBJECTIVES)}")
