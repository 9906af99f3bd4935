"""The options of `graph-eigen train`, grouped, each with its help and its default.

Defaults come from runs/presets.py (the batch size and the epochs follow the graph's size, which the
help says), so the help and the behaviour cannot disagree.
``--config FILE`` reads options from a JSON or YAML file (an earlier run's config.json works);
flags given on the command line override it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from graph_eigen.config import FEATURE_KNN_SOURCES, FITS, TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.model.encoders import ENCODERS
from graph_eigen.model.objectives import OBJECTIVES
from graph_eigen.runs.presets import default_config


def _fanouts(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"fanouts must be integers like 10,5 (got '{text}')") from exc


# group -> [(flag, argparse keywords, help)]; the config field is the flag with '-' -> '_'
GROUPS: dict[str, list[tuple[str, dict, str]]] = {
    "data": [
        ("train-nodes", {}, ".npy of node ids: train on their induced subgraph"),
        ("seed-nodes", {}, ".npy of node ids: draw seeds only from them, on the whole graph's operator "
                           "(the other nodes serve as neighbors; embed them afterwards)"),
        ("feature-knn", {"type": int}, "add a kNN graph of the node features (k neighbors, faiss) to the operator"),
        ("feature-knn-weight", {"type": float}, "weight of the feature kNN graph's edges"),
        ("feature-knn-source", {"choices": FEATURE_KNN_SOURCES},
         "features the kNN graph is found in: raw X, propagated A_hat^2 X, or both graphs added"),
    ],
    "encoder": [
        ("encoder", {"choices": list(ENCODERS)}, "table: a vector per node; mlp/resmlp: MLPs on features; "
                                                 "sign: an MLP on features propagated --hops times (no neighbor "
                                                 "sampling); sage/gcn: GNNs on sampled neighborhoods"),
        ("dim", {"type": int}, "embedding dimension K"),
        ("hidden", {"type": int}, "hidden width"),
        ("layers", {"type": int}, "layers (GNN layers, or MLP layers)"),
        ("norm", {"choices": ["none", "batch_norm", "layer_norm"]}, "normalization between layers"),
        ("dropout", {"type": float}, "dropout probability"),
        ("input-dim", {"type": int}, "project wider features to this many dimensions once (truncated SVD; 0 = off)"),
        ("hops", {"type": int}, "sign encoder: propagation hops (X, A_hat X, ..., A_hat^hops X)"),
    ],
    "objective": [
        ("objective", {"choices": list(OBJECTIVES)}, "neuralef: ordered eigenfunctions; basis: regression onto "
                                                     "batch eigenvectors aligned through anchors"),
        ("estimator", {"choices": ["targets", "bank", "running", "batch"]},
         "NeuralEF: targets = regression onto the NeuralEF step in function space; bank, running, batch = "
         "gradient estimators"),
        ("variant", {"choices": ["ordered", "eigenmap"]}, "NeuralEF: ordered eigenfunctions or Neural Eigenmap"),
        ("alpha", {"type": float}, "NeuralEF eigenmap variant: the constant replacing 1/R_ii"),
        ("no-stop-grad", {"dest": "stop_grad", "action": "store_false"}, "NeuralEF eigenmap: drop the stop-gradient"),
        ("power", {"type": int}, "NeuralEF: products per targets refresh (Chebyshev degree, or p in ((I + K)/2)^p)"),
        ("target-every", {"type": int}, "targets estimator: steps between refreshes (0 = once per epoch)"),
        ("target-source", {"choices": ["bank", "inference"]}, "targets estimator: the seeds' stored outputs, or "
                                                              "full-graph inference at every refresh"),
        ("target-filter", {"choices": ["chebyshev", "power"]}, "targets estimator: the polynomial of K per refresh"),
        ("bank-every", {"type": int}, "bank estimator: steps between exact recomputations of its sums"),
        ("anchors", {"type": int}, "BASiS: anchor nodes in every batch"),
        ("anchor-strategy", {"choices": ["uniform", "degree"]}, "BASiS: how anchors are drawn (never by label)"),
        ("batch-operator", {"choices": ["global", "feature_span", "sampled", "knn"]}, "BASiS: where the batch eigenvectors come from"),
        ("ransac", {"action": "store_true"}, "BASiS: align through the anchors with RANSAC"),
        ("ransac-threshold", {"type": float}, "BASiS --ransac: inlier residual on unit-norm columns"),
        ("knn-kernel", {"choices": ["self-tuning", "basis"]}, "BASiS knn operator: the batch graph's kernel"),
        ("refresh-every", {"type": int}, "BASiS: steps between reference refreshes (0 = never)"),
    ],
    "optimization": [
        ("fit", {"choices": list(FITS)}, "steps: gradient steps; closed_form: a linear encoder (sign or mlp, "
                                         "--layers 1) set to the least-squares fit of BASiS's whole-graph targets, "
                                         "no steps; auto: closed form where it applies, else steps"),
        ("epochs", {"type": int}, "passes over the seed nodes; with --resume, the new total"),
        ("batch-size", {"type": int}, "seeds per step; 0 = the whole graph in one batch"),
        ("fanouts", {"type": _fanouts}, "neighbors sampled per hop, e.g. 10,5 (-1 = all)"),
        ("optimizer", {"choices": ["adam", "sgd"]}, "optimizer"),
        ("lr", {"type": float}, "learning rate"),
        ("weight-decay", {"type": float}, "weight decay"),
        ("schedule", {"choices": ["constant", "cosine"]}, "learning-rate schedule"),
        ("seed", {"type": int}, "random seed: the same seed gives the same embedding on the CPU"),
    ],
    "run": [
        ("device", {}, "auto (CUDA when present), cpu or cuda[:N]; sampling stays on the CPU"),
        ("checkpoint-every", {"type": int}, "steps between checkpoints (also at the end of every epoch)"),
    ],
}


def _default_text(field: str) -> str:
    if field in ("batch_size", "epochs", "anchors"):
        return " (default: by the graph's size, see runs/presets.py)"
    value = getattr(default_config(""), field)
    return f" (default: {','.join(map(str, value)) if isinstance(value, list) else value})"


def add_train_options(p: argparse.ArgumentParser) -> None:
    """Register the grouped training options on the `train` parser (every default is None:
    unset options take the configuration's value)."""
    for title, options in GROUPS.items():
        group = p.add_argument_group(title)
        for flag, kwargs, text in options:
            field = kwargs.get("dest", flag.replace("-", "_"))
            group.add_argument(f"--{flag}", default=None, help=text + _default_text(field), **kwargs)
    group.add_argument("--config", default=None,  # the last group: run
                       help="JSON or YAML file of options (an earlier run's config.json works); flags override it")


def read_config_file(path: str) -> dict[str, Any]:
    """Options from a JSON or YAML file, keyed by TrainConfig field; unknown keys are refused."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read --config '{path}': {exc.strerror or exc}") from exc
    is_yaml = file.suffix.lower() in (".yaml", ".yml")
    if is_yaml:
        try:
            import yaml
        except ImportError as exc:
            raise ConfigError("--config with a YAML file needs PyYAML (pip install pyyaml); "
                              "or give a JSON file") from exc
    try:
        data = yaml.safe_load(text) if is_yaml else json.loads(text)
    except Exception as exc:  # json.JSONDecodeError or yaml.YAMLError
        raise ConfigError(f"--config '{path}' is not valid {file.suffix.lstrip('.').upper() or 'JSON'}: "
                          f"{str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--config '{path}' must hold a mapping of options, got {type(data).__name__}")
    known = {f for f in TrainConfig.__dataclass_fields__}
    run_info = {"distributed"}  # written into config.json beside the options
    unknown = set(data) - known - run_info
    if unknown:
        raise ConfigError(f"--config '{path}' has unknown option(s): {', '.join(sorted(unknown))}")
    return {k: v for k, v in data.items() if k in known}
