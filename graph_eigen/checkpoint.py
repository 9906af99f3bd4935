"""Checkpoints: written atomically with a SHA-256 checksum, read with ``weights_only=True`` and
clear errors when missing, corrupt or damaged.

The file is ``torch.save({"format": 2, "sha256": HEX, "payload": UINT8_TENSOR})`` where the
payload is the ``torch.save`` bytes of the state (tensors and plain values only).
"""
from __future__ import annotations

import hashlib
import io
import logging
import pickle
import zipfile
from pathlib import Path

import torch

from .errors import CheckpointError
from .io import atomic_write
from .rundir import CHECKPOINT

FORMAT = 2
log = logging.getLogger(__name__)


def save_checkpoint(run_dir: str | Path, state: dict) -> Path:
    """Write ``run_dir/checkpoint.pt`` atomically, with the checksum of its payload."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = bytearray(buffer.getbuffer())
    wrapped = {"format": FORMAT, "sha256": hashlib.sha256(payload).hexdigest(),
               "payload": torch.frombuffer(payload, dtype=torch.uint8)}
    return atomic_write(Path(run_dir) / CHECKPOINT, lambda tmp: torch.save(wrapped, tmp))


def _load(source, path: Path):
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # a class or function: loading it could run code
            raise CheckpointError(f"checkpoint '{path}' holds objects other than tensors and plain values: "
                                  f"refusing to load it") from exc
        raise CheckpointError(f"checkpoint '{path}' is corrupt or truncated (not a readable pickle)") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        lines = str(exc).strip().splitlines()
        raise CheckpointError(f"checkpoint '{path}' is corrupt or truncated: "
                              f"{lines[0] if lines else type(exc).__name__}") from exc


def load_checkpoint(run_dir: str | Path) -> dict:
    """The state saved by :func:`save_checkpoint`; a damaged file is refused."""
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"no checkpoint in '{run_dir}' ({CHECKPOINT} is missing)")
    state = _load(path, path)
    if isinstance(state, dict) and state.get("format") == FORMAT and "payload" in state:
        payload = state["payload"]
        data = payload.numpy().tobytes() if isinstance(payload, torch.Tensor) else b""
        if hashlib.sha256(data).hexdigest() != state.get("sha256"):
            raise CheckpointError(f"checkpoint '{path}' is damaged: its checksum does not match its content")
        state = _load(io.BytesIO(data), path)
    elif isinstance(state, dict) and "encoder" in state:
        log.warning("checkpoint '%s' has no checksum (written before 2026-12-05): it cannot be verified", path)
    if not isinstance(state, dict) or "encoder" not in state:
        raise CheckpointError(f"checkpoint '{path}' is not a graph-eigen checkpoint")
    return state
