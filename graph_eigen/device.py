"""Where tensors live: ``auto`` (CUDA when present, else the CPU), ``cpu`` or ``cuda[:N]``."""
from __future__ import annotations

import torch

from graph_eigen.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``; asking for CUDA on a machine without it is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device '{name}' asked for, but torch finds no CUDA device "
                              f"(torch {torch.__version__}); use `device` cpu or auto")
        return torch.device(name)
    raise ConfigError(f"unknown device '{name}'; choose auto, cpu or cuda[:N]")
