"""A trained model: the encoder and the objective's inference state, built from a configuration
and read back from a run folder. Export, evaluation and the estimator import this, not the
training loop."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import load_checkpoint
from .config import TrainConfig
from .encoders import EncoderConfig, build_encoder
from .errors import CheckpointError
from .graph import Graph
from .objectives import build_objective


@dataclass
class Model:
    """What training produces: the encoder and the objective's inference state."""

    config: TrainConfig
    encoder: torch.nn.Module
    objective: torch.nn.Module


def build_model(cfg: TrainConfig, graph: Graph) -> Model:
    enc_cfg = EncoderConfig(cfg.encoder, cfg.hidden, cfg.layers, cfg.norm, cfg.dropout, cfg.input_dim, cfg.hops)
    encoder = build_encoder(cfg.encoder, graph, cfg.dim, enc_cfg, seed=cfg.seed)
    objective = build_objective(cfg.objective, cfg.dim, **cfg.objective_params())
    return Model(cfg, encoder, objective)



def load_model(run_dir: str | Path, graph: Graph) -> Model:
    """Rebuild a trained model from its run folder (config.json + checkpoint.pt)."""
    cfg = TrainConfig.load(run_dir)
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
