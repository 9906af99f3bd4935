"""A run's saved state: checkpoints written atomically with a SHA-256 checksum and read with
``weights_only=True``, clear errors when missing, corrupt or damaged; the run's configuration and
its trained model read back.

The file is ``torch.save({"format": 2, "sha256": HEX, "payload": UINT8_TENSOR})`` where the
payload is the ``torch.save`` bytes of the state (tensors and plain values only).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import pickle
import zipfile
from pathlib import Path

import torch

from graph_eigen.config import TrainConfig
from graph_eigen.errors import CheckpointError
from graph_eigen.graph.core import Graph
from graph_eigen.io import atomic_write
from graph_eigen.model.build import Model, build_model
from graph_eigen.runs.folder import CHECKPOINT, CONFIG

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


def load_config(run_dir: str | Path) -> TrainConfig:
    """The configuration of the run in ``run_dir`` (its config.json)."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"'{run_dir}' is not a run folder: {path.name} is missing")
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        return TrainConfig.from_saved(data)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise CheckpointError(f"'{path}' is corrupt: {exc}") from exc


def load_model(run_dir: str | Path, graph: Graph) -> Model:
    """Rebuild a trained model from its run folder (config.json + checkpoint.pt)."""
    cfg = load_config(run_dir)
    state = load_checkpoint(run_dir)
    model = build_model(cfg, graph)
    try:
        model.encoder.load_state_dict(state["encoder"])
        model.objective.load_state_dict(state["objective"], strict=False)
    except (RuntimeError, KeyError) as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = next((line for line in lines if "size mismatch" in line), lines[0] if lines else "")
        raise CheckpointError(
            f"checkpoint in '{run_dir}' does not fit dataset '{graph.name}' "
            f"({graph.num_nodes} nodes, {graph.num_features} features): {detail}"
        ) from exc
    return model
