"""A trained model: the encoder and the objective's inference state, built from a configuration
(``graph_eigen.runs.checkpoint.load_model`` reads one back from a run folder). Export,
evaluation and the estimator import this, not the training loop."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

import torch

from graph_eigen.config import TrainConfig
from graph_eigen.graph.core import Graph
from graph_eigen.model.encoders import EncoderConfig, build_encoder
from graph_eigen.model.objectives import build_objective


@dataclass
class Model:
    """What training produces: the encoder and the objective's inference state."""

    config: TrainConfig
    encoder: torch.nn.Module
    objective: torch.nn.Module

    def embed(self, graph: Graph, progress: bool = False, chunk: Optional[int] = None) -> np.ndarray:
        """The embedding of every node of ``graph`` (n x K float32), deterministic (eval mode).

        ``chunk``: nodes per batch of the encoder's ``embed_all`` (None: the encoder's default); a
        GNN's export memory grows with it.
        """
        self.encoder.eval()
        self.objective.eval()
        with torch.no_grad():
            kwargs = {} if chunk is None else {"chunk": chunk}
            psi = self.encoder.embed_all(graph, progress=progress, **kwargs)
            return self.objective.finalize(psi).numpy().astype(np.float32)


def build_model(cfg: TrainConfig, graph: Graph) -> Model:
    enc_cfg = EncoderConfig(cfg.encoder, cfg.hidden, cfg.layers, cfg.norm, cfg.dropout, cfg.input_dim, cfg.hops)
    encoder = build_encoder(cfg.encoder, graph, cfg.dim, enc_cfg, seed=cfg.seed)
    objective = build_objective(cfg.objective, cfg.dim, **cfg.objective_params())
    return Model(cfg, encoder, objective)
