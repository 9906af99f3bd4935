"""Checkpoints: written atomically, read with clear errors when missing or corrupt."""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from .errors import CheckpointError
from .io import atomic_write

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(run_dir: str | Path, state: dict) -> Path:
    return atomic_write(Path(run_dir) / CHECKPOINT, lambda tmp: torch.save(state, tmp))


def load_checkpoint(run_dir: str | Path) -> dict:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"no checkpoint in '{run_dir}' ({CHECKPOINT} is missing)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint '{path}' is corrupt or truncated: {exc}") from exc
    if not isinstance(state, dict) or "encoder" not in state:
        raise CheckpointError(f"checkpoint '{path}' is not a graph-eigen checkpoint")
    return state
