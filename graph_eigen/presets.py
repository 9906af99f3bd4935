"""The defaults `graph-eigen train --dataset NAME` uses when no other option is given.

Chosen from the measurements in the README (see benchmarks/); one place to change them.
"""
from __future__ import annotations

from .config import TrainConfig


def recommended_config(dataset: str) -> TrainConfig:
    """The objective, encoder, dimension and schedule that did best on the shared datasets."""
    return TrainConfig(dataset=dataset)
