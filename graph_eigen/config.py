"""The training configuration: one dataclass, saved as config.json next to every run."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

from graph_eigen.errors import ConfigError, param

FEATURE_KNN_SOURCES = ("raw", "propagated", "both")  # features the kNN graph is found in (graph/knn.py)
FITS = ("steps", "closed_form", "auto")  # how the encoder is fit (closed_form.py)


MAX_FLOAT32 = 3.4028234663852886e38
MAX_WIDTH = 1 << 16  # widest hidden layer or input projection accepted
_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,)}


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
    input_dim: int = 0  # > 0: fixed truncated-SVD projection of wider features (speed)
    epochs: int = 10
    batch_size: int = 1024  # 0 = full graph per step
    fanouts: list = field(default_factory=lambda: [10, 5])
    optimizer: str = "adam"
    lr: float = 0.01
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | cosine
    seed: int = 0
    checkpoint_every: int = 50  # steps
    fit: str = "steps"  # steps | closed_form | auto (closed form where it applies; closed_form.py)
    # NeuralEF
    variant: str = "ordered"
    alpha: float = 0.3
    stop_grad: bool = True
    power: Optional[int] = None  # NeuralEF: p in ((I + K) / 2)^p (None: 1), or the targets filter's products (None: 64 / 256)
    estimator: str = "targets"  # targets | bank | running | batch (see model/objectives/neuralef*.py)
    bank_every: int = 1000  # bank estimator: steps between exact recomputations of its sums
    target_every: int = 0  # targets estimator: steps between target refreshes (0 = once per epoch)
    target_source: str = "bank"  # targets estimator: bank (the seeds' outputs) | inference (every node's)
    target_filter: str = "chebyshev"  # targets estimator: chebyshev (degree p) | power ((I + K) / 2)^p
    # BASiS
    anchors: int = 256
    anchor_strategy: str = "uniform"
    batch_operator: str = "global"
    ransac: bool = False
    ransac_threshold: float = 0.1  # inlier: residual row norm < this, on unit-norm eigenvector columns
    knn_kernel: str = "self-tuning"  # the knn batch operator's kernel: self-tuning | basis (graph/knn.py)
    refresh_every: int = 0
    train_nodes: Optional[str] = None  # npy file of node ids to train on (induced subgraph)
    seed_nodes: Optional[str] = None  # npy file of node ids drawn as seeds (whole graph as operator)
    feature_knn: int = 0  # > 0: add a kNN graph of the node features to the operator (graph/knn.py)
    feature_knn_weight: float = 1.0
    feature_knn_source: str = "raw"  # raw | propagated (SGC's A_hat^2 X) | both
    hops: int = 2  # sign encoder: propagation hops of the features
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda[:N]; sampling stays on the CPU

    def validate(self) -> "TrainConfig":
        if self.dim <= 0:
            raise ConfigError(f"`dim` must be positive, got {self.dim}")
        if self.epochs <= 0:
            raise ConfigError(f"`epochs` must be positive, got {self.epochs}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"`lr` must be positive, got {self.lr}")
        if self.lr > MAX_FLOAT32:
            raise ConfigError(f"`lr` must be at most {MAX_FLOAT32:.3g} (float32), got {self.lr}")
        for name, value, low in (("weight_decay", self.weight_decay, 0), ("alpha", self.alpha, 0),
                                 ("feature_knn_weight", self.feature_knn_weight, 0)):
            if not (math.isfinite(value) and value >= low):
                raise ConfigError(f"{param(name)} must be a finite number >= {low}, got {value}")
        for name, value, low in (("seed", self.seed, 0), ("input_dim", self.input_dim, 0),
                                 ("refresh_every", self.refresh_every, 0), ("target_every", self.target_every, 0),
                                 ("bank_every", self.bank_every, 1), ("anchors", self.anchors, 1),
                                 ("feature_knn", self.feature_knn, 0), ("power", self.power, 1)):
            if value is not None and value < low:
                raise ConfigError(f"{param(name)} must be an integer >= {low}, got {value}")
        if self.seed >= 2 ** 63:
            raise ConfigError(f"`seed` must be smaller than 2**63, got {self.seed}")
        if self.hidden > MAX_WIDTH or self.input_dim > MAX_WIDTH:
            raise ConfigError(f"`hidden` and `input_dim` must be at most {MAX_WIDTH}, got {self.hidden} and "
                              f"{self.input_dim}")
        if self.batch_size < 0:  # 0 is documented: one full-graph batch per step
            raise ConfigError(f"`batch_size` must be a positive number of seeds, or 0 for full-graph "
                              f"training; got {self.batch_size}")
        if self.checkpoint_every <= 0:
            raise ConfigError(f"`checkpoint_every` must be a positive number of steps, got {self.checkpoint_every}")
        if self.feature_knn_source not in FEATURE_KNN_SOURCES:
            raise ConfigError(f"`feature_knn_source` must be one of {', '.join(FEATURE_KNN_SOURCES)}, "
                              f"got '{self.feature_knn_source}'")
        if self.optimizer not in ("adam", "sgd"):
            raise ConfigError(f"unknown optimizer '{self.optimizer}'; choose adam or sgd")
        banked = self.estimator == "bank" or (self.estimator == "targets" and self.target_source == "bank")
        if self.seed_nodes and self.objective == "neuralef" and banked:
            raise ConfigError(f"`seed_nodes` with the NeuralEF {self.estimator} estimator: its bank would never "
                              f"hold the other nodes' outputs; use `target_source` inference with `estimator` "
                              f"targets, `estimator` running, or `objective` basis")
        if not (isinstance(self.ransac_threshold, (int, float)) and self.ransac_threshold > 0):
            raise ConfigError(f"`ransac_threshold` must be a positive number, got {self.ransac_threshold!r}")
        if self.knn_kernel not in ("self-tuning", "basis"):
            raise ConfigError(f"unknown `knn_kernel` '{self.knn_kernel}'; choose self-tuning or basis")
        if self.fit not in FITS:
            raise ConfigError(f"unknown `fit` '{self.fit}'; choose {', '.join(FITS)}")
        if self.schedule not in ("constant", "cosine"):
            raise ConfigError(f"unknown schedule '{self.schedule}'; choose constant or cosine")
        return self

    def objective_params(self) -> dict:
        if self.objective == "neuralef":
            params = {"variant": self.variant, "alpha": self.alpha, "stop_grad": self.stop_grad,
                      "estimator": self.estimator}
            if self.estimator == "targets":
                params.update(target_every=self.target_every, source=self.target_source,
                              filter=self.target_filter, seed=self.seed)
            else:
                params.update(bank_every=self.bank_every)
            return params if self.power is None else {**params, "power": self.power}
        return {"anchors": self.anchors, "anchor_strategy": self.anchor_strategy,
                "batch_operator": self.batch_operator, "ransac": self.ransac,
                "ransac_threshold": self.ransac_threshold, "knn_kernel": self.knn_kernel,
                "refresh_every": self.refresh_every, "seed": self.seed}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """A configuration from options as they enter (API keywords, ``options``, ``--config``
        files): each value coerced to its field's type (:func:`coerce_option`), so that what trains
        also saves and loads; unknown keys are ignored."""
        if not isinstance(data, dict):
            raise ConfigError(f"options must be a mapping of option names to values, got {type(data).__name__}")
        types = {f.name: str(f.type) for f in fields(cls)}
        return cls(**{k: coerce_option(k, v, types[k]) for k, v in data.items() if k in types})

    @classmethod
    def from_saved(cls, data: dict) -> "TrainConfig":
        """A configuration read back from a run folder: every value must already have its field's
        type (as the library writes it); ``TypeError`` names the first that does not."""
        _check_types(cls, data)
        return cls.from_dict(data)


def coerce_option(name: str, value, kind: str):
    """``value`` as the type ``kind`` of option ``name`` (``int``, ``float``, ``str``, ``bool``,
    ``list`` of ints, or ``Optional[...]`` of one): numpy scalars become Python's, whole floats
    (8.0) ints, numeric strings ("1e-3", as YAML 1.1 reads an exponent) numbers, "10,5" a list;
    anything else is a :class:`ConfigError` naming the option."""
    import numbers

    optional = kind.startswith("Optional[")
    base = kind[len("Optional["):-1] if optional else kind
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{param(name)} must be {base}, got None")

    def fail(expected: str):
        return ConfigError(f"{param(name)} must be {expected}, got {value!r}")

    def as_int(v):
        if isinstance(v, str):  # "8", or "8.0" / "1e3" as a whole number
            try:
                return int(v)
            except ValueError:
                try:
                    v = float(v)
                except ValueError:
                    raise fail("an integer") from None
        if isinstance(v, bool):
            raise fail("an integer")
        if isinstance(v, numbers.Integral):
            return int(v)
        if isinstance(v, numbers.Real) and float(v).is_integer():
            return int(v)
        raise fail("an integer")

    if base == "int":
        return as_int(value)
    if base == "float":
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise fail("a number")
    if base == "bool":
        if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
            return bool(value)
        words = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
        if isinstance(value, str) and value.strip().lower() in words:
            return words[value.strip().lower()]
        raise fail("true or false")
    if base == "str":
        if isinstance(value, str):
            return value
        raise fail("a string")
    if base == "list":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) and type(items).__name__ != "ndarray":
            raise fail("a list of integers (or \"10,5\")")
        return [as_int(v) for v in items]
    return value


def _check_types(cls, data: dict) -> None:
    """Raise TypeError for a value of the wrong type (a hand-edited config.json)."""
    for f in fields(cls):
        if f.name not in data:
            continue
        value, kind = data[f.name], str(f.type)
        optional = kind.startswith("Optional[")
        base = kind[len("Optional["):-1] if optional else kind
        if value is None and optional:
            continue
        types = _TYPES.get(base)
        if types is None:
            continue
        ok = isinstance(value, types) and not (base in ("int", "float") and isinstance(value, bool))
        if base == "list":
            ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not ok:
            raise TypeError(f"'{f.name}' must be {'null or ' if optional else ''}{base}, got {value!r}")
