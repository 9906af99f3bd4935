"""The training configuration: one dataclass, saved as config.json next to every run."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Optional

from .errors import CheckpointError, ConfigError


@dataclass
class TrainConfig:
    dataset: str = "sbm"
    root: Optional[str] = None
    objective: str = "neuralef"
    encoder: str = "sage"
    dim: int = 16
    hidden: int = 256
    layers: int = 2
    norm: str = "none"
    dropout: float = 0.0
    epochs: int = 10
    batch_size: int = 1024  # 0 = full graph per step
    fanouts: list = field(default_factory=lambda: [10, 5])
    optimizer: str = "adam"
    lr: float = 0.01
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | cosine
    seed: int = 0
    checkpoint_every: int = 50  # steps
    # NeuralEF
    variant: str = "ordered"
    alpha: float = 0.3
    stop_grad: bool = True
    power: int = 1
    # BASiS
    anchors: int = 256
    anchor_strategy: str = "uniform"
    batch_operator: str = "global"
    ransac: bool = False
    refresh_every: int = 0
    train_nodes: Optional[str] = None  # npy file of node ids to train on (induced subgraph)

    def validate(self) -> "TrainConfig":
        if self.dim <= 0:
            raise ConfigError(f"--dim must be positive, got {self.dim}")
        if self.epochs <= 0:
            raise ConfigError(f"--epochs must be positive, got {self.epochs}")
        if self.lr <= 0:
            raise ConfigError(f"--lr must be positive, got {self.lr}")
        if self.batch_size < 0:
            raise ConfigError(f"--batch-size must be positive (0 = full graph), got {self.batch_size}")
        if self.optimizer not in ("adam", "sgd"):
            raise ConfigError(f"unknown optimizer '{self.optimizer}'; choose adam or sgd")
        if self.schedule not in ("constant", "cosine"):
            raise ConfigError(f"unknown schedule '{self.schedule}'; choose constant or cosine")
        return self

    def objective_params(self) -> dict:
        if self.objective == "neuralef":
            return {"variant": self.variant, "alpha": self.alpha, "stop_grad": self.stop_grad, "power": self.power}
        return {"anchors": self.anchors, "anchor_strategy": self.anchor_strategy,
                "batch_operator": self.batch_operator, "ransac": self.ransac,
                "refresh_every": self.refresh_every, "seed": self.seed}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def load(cls, run_dir: str | Path) -> "TrainConfig":
        path = Path(run_dir) / "config.json"
        if not path.is_file():
            raise CheckpointError(f"'{run_dir}' is not a run folder: {path.name} is missing")
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise CheckpointError(f"'{path}' is corrupt: {exc}") from exc
