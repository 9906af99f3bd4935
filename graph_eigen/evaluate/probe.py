"""Linear probe: logistic regression on frozen node embeddings.

Protocol (docs/algorithms.md, "The linear probe"):

- inputs are the embedding (optionally its first ``dims`` columns), optionally concatenated
  with the graph's raw features, standardized with the mean and std of the training rows;
- a multinomial logistic regression is trained for every weight decay in ``WEIGHT_DECAYS``
  (loss = mean cross-entropy + wd * ||W||^2, bias not decayed); the one with the best
  validation accuracy (ties: the larger wd) is scored on the test nodes;
- ``split="random"``: per seed a fresh train/val/test split of the labeled nodes
  (10/10/80 by default, uniform or stratified by class); ``split="official"``: the graph's
  own split, scored with ogb's Evaluator for ``ogbn-*`` datasets;
- accuracies are percentages; ``accuracy_std`` is the population std over seeds.

Size: when the training rows fit in one chunk (``chunk_size`` rows, by default
``MAX_CHUNK_ELEMENTS`` numbers) the classifier is fit full-batch with L-BFGS; otherwise with
minibatch Adam, all weight decays at once, so each batch is read once. Inputs are only ever
materialized a chunk of rows at a time, so an ``np.load(..., mmap_mode="r")`` array of
ogbn-products' size works in bounded memory.
"""
from __future__ import annotations

import math
import time
from typing import Iterator, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph

# Weight decays tried on the validation set. With standardized inputs and a mean loss, 1e-1
# is strong and 0 is unregularized: on separable training data (e.g. 765 Photo nodes with 745
# features) L-BFGS then stops once the gradient falls below its tolerance, a large-margin
# solution that often validates best. The regularized fits run to convergence.
WEIGHT_DECAYS: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
MAX_CHUNK_ELEMENTS = 1 << 25  # numbers per materialized chunk of inputs (128 MiB of float32)
LBFGS_MAX_ITER = 200


# ---------------------------------------------------------------------- public API
def linear_probe(
    embedding: np.ndarray,
    graph: Graph,
    split: str = "random",
    train_frac: float = 0.1,
    val_frac: float = 0.1,
    seeds: int = 5,
    label_ratio: float = 1.0,
    concat_features: bool = False,
    dims: Optional[int] = None,
    stratify: bool = False,
    weight_decays: Sequence[float] = WEIGHT_DECAYS,
    chunk_size: Optional[int] = None,
    epochs: int = 20,
    batch_size: int = 4096,
    device: Optional[str] = None,
) -> dict:
    """Linear-probe node classification accuracy of ``embedding``.

    Parameters
    ----------
    embedding : ndarray of shape (n_nodes, K)
        One row per node of ``graph`` (a memmap is read in blocks).
    graph : Graph
        Holds the labels (and, with ``split="official"``, the split).
    split : {"random", "official"}, default "random"
        Random splits (``train_frac``, ``val_frac``; one per seed) or the graph's own (OGB's).
    train_frac, val_frac : float, default 0.1
        Fractions of the labeled nodes in a random split's train and validation sets.
    seeds : int, default 5
        Number of random splits (and probe initializations).
    label_ratio : float, default 1.0
        Fraction of the training labels kept.
    concat_features : bool, default False
        Probe ``[embedding, features]``.
    dims : int, optional
        Keep the first ``dims`` columns.
    stratify : bool, default False
        Draw random splits per class.
    weight_decays : sequence of float
        The weight decays tried; the validation set picks one per split.
    chunk_size, epochs, batch_size : optional
        The minibatch path for inputs too large for full-batch training.
    device : str, optional
        Where the probe trains.

    Returns
    -------
    dict
        ``accuracy_mean``, ``accuracy_std`` (percent, over splits), the per-split accuracies,
        the sizes of the sets and the time taken.
    """
    _check_embedding(embedding, graph)
    _check_options(graph, split, train_frac, val_frac, seeds, label_ratio, concat_features, dims)
    if dims is not None and int(dims) > embedding.shape[1]:
        raise ConfigError(f"dims={dims} but the embedding has only {embedding.shape[1]} columns")
    return _run_probe(embedding, graph, split, train_frac, val_frac, seeds, label_ratio,
                      concat_features, dims, stratify, weight_decays, chunk_size, epochs,
                      batch_size, device)


def truncation_curve(embedding: np.ndarray, graph: Graph, max_dim: Optional[int] = None,
                     **probe_kwargs) -> dict:
    """Probe accuracy using the first 1, 2, 4, ..., K columns (K = ``max_dim`` or all, included).

    Returns ``{"dims": [...], "accuracy_mean": [...], "accuracy_std": [...], "results": [...]}``.
    """
    _check_embedding(embedding, graph)
    k = int(embedding.shape[1]) if max_dim is None else int(max_dim)
    if not 1 <= k <= embedding.shape[1]:
        raise ConfigError(f"max_dim must be in [1, {embedding.shape[1]}], got {max_dim}")
    dims_list = [1 << i for i in range(k.bit_length()) if (1 << i) < k] + [k]
    opts = dict(split="random", train_frac=0.1, val_frac=0.1, seeds=5, label_ratio=1.0,
                concat_features=False, stratify=False, weight_decays=WEIGHT_DECAYS,
                chunk_size=None, epochs=20, batch_size=4096, device=None)
    unknown = set(probe_kwargs) - set(opts)
    if unknown:
        raise ConfigError(f"unknown probe options: {', '.join(sorted(unknown))}")
    opts.update(probe_kwargs)
    _check_options(graph, opts["split"], opts["train_frac"], opts["val_frac"], opts["seeds"],
                   opts["label_ratio"], opts["concat_features"], k)
    results = [_run_probe(embedding, graph, dims=d, **opts) for d in dims_list]
    return {
        "dims": dims_list,
        "accuracy_mean": [r["accuracy_mean"] for r in results],
        "accuracy_std": [r["accuracy_std"] for r in results],
        "results": results,
    }


# ---------------------------------------------------------------------- validation
def _check_embedding(embedding, graph: Graph) -> None:
    if not hasattr(embedding, "shape") or len(embedding.shape) != 2:
        shape = getattr(embedding, "shape", None)
        raise ConfigError(f"embedding must be a 2-D array (nodes x dims), got shape {shape}")
    dtype = getattr(embedding, "dtype", None)
    if dtype is not None and not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise ConfigError(f"embedding must hold real numbers, got dtype {dtype}")
    if embedding.shape[0] != graph.num_nodes:
        raise ConfigError(
            f"embedding has {embedding.shape[0]} rows but dataset '{graph.name}' has "
            f"{graph.num_nodes} nodes: one row per node is required")
    if embedding.shape[1] == 0:
        raise ConfigError("embedding has no columns")
    step = max(1, MAX_CHUNK_ELEMENTS // int(embedding.shape[1]))
    bad_rows, first = 0, None
    for start in range(0, embedding.shape[0], step):  # in blocks: a memory-mapped file stays on disk
        bad = np.flatnonzero(~np.isfinite(np.asarray(embedding[start:start + step])).all(axis=1))
        if bad.size and first is None:
            first = start + int(bad[0])
        bad_rows += bad.size
    if bad_rows:
        raise ConfigError(f"embedding contains NaN or infinite values in {bad_rows} rows (first: row {first})")


def _check_options(graph: Graph, split: str, train_frac: float, val_frac: float, seeds: int,
                   label_ratio: float, concat_features: bool, dims: Optional[int]) -> None:
    if graph.y is None or graph.num_classes < 2:
        raise ConfigError(f"dataset '{graph.name}' has no class labels (at least 2 classes needed)"
                          " for a linear probe")
    if split not in ("random", "official"):
        raise ConfigError(f"unknown split '{split}'; choose random or official")
    if split == "official" and graph.split is None:
        raise ConfigError(f"dataset '{graph.name}' has no official split; use `split` random")
    if split == "random":
        if not (0 < train_frac < 1 and 0 < val_frac < 1 and train_frac + val_frac < 1):
            raise ConfigError(
                f"fractions must satisfy 0 < train_frac, 0 < val_frac, train_frac + val_frac < 1 "
                f"(got train_frac={train_frac}, val_frac={val_frac})")
    if not 0 < label_ratio <= 1:
        raise ConfigError(f"label_ratio must be in (0, 1], got {label_ratio}")
    if int(seeds) < 1:
        raise ConfigError(f"seeds must be at least 1, got {seeds}")
    if concat_features and graph.x is None:
        raise ConfigError(f"dataset '{graph.name}' has no node features to concatenate")
    if dims is not None and int(dims) < 1:
        raise ConfigError(f"dims must be positive, got {dims}")


# ---------------------------------------------------------------------- splits
def _random_split(labeled: np.ndarray, y: np.ndarray, train_frac: float, val_frac: float,
                  rng: np.random.Generator, stratify: bool) -> dict[str, np.ndarray]:
    groups = [labeled[y[labeled] == c] for c in np.unique(y[labeled])] if stratify else [labeled]
    parts: dict[str, list] = {"train": [], "valid": [], "test": []}
    for nodes in groups:
        perm = rng.permutation(nodes)
        n_tr = int(round(train_frac * len(perm)))
        n_va = int(round(val_frac * len(perm)))
        parts["train"].append(perm[:n_tr])
        parts["valid"].append(perm[n_tr:n_tr + n_va])
        parts["test"].append(perm[n_tr + n_va:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}


def _official_split(graph: Graph, y: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for key in ("train", "valid", "test"):
        if key not in graph.split:
            raise ConfigError(f"the official split of '{graph.name}' has no '{key}' part")
        idx = np.unique(graph.split[key].numpy())
        out[key] = idx[y[idx] >= 0]
    return out


# ---------------------------------------------------------------------- inputs
class _Inputs:
    """Standardized (embedding[:, :dims] | features) rows, read a chunk at a time."""

    def __init__(self, embedding, dims: int, features: Optional[np.ndarray], chunk_rows: int):
        self.embedding, self.dims, self.features = embedding, dims, features
        self.width = dims + (0 if features is None else features.shape[1])
        self.chunk_rows = chunk_rows
        self.mean = np.zeros(self.width, dtype=np.float32)
        self.scale = np.ones(self.width, dtype=np.float32)

    def raw(self, idx: np.ndarray) -> np.ndarray:
        """Unstandardized rows ``idx`` (sorted ids read fastest from a memmap)."""
        parts = [np.asarray(self.embedding[idx, :self.dims], dtype=np.float32)]
        if self.features is not None:
            parts.append(np.asarray(self.features[idx], dtype=np.float32))
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def fit(self, idx: np.ndarray) -> None:
        """Mean and std of rows ``idx`` (float64 sums over chunks); constant columns keep std 1."""
        total = np.zeros(self.width)
        total_sq = np.zeros(self.width)
        for chunk in self.chunks(idx):
            block = self.raw(chunk).astype(np.float64)
            total += block.sum(0)
            total_sq += (block ** 2).sum(0)
        mean = total / len(idx)
        var = np.maximum(total_sq / len(idx) - mean ** 2, 0.0)
        std = np.sqrt(var)
        std[std < 1e-8 * np.maximum(1.0, np.abs(mean))] = 1.0
        self.mean, self.scale = mean.astype(np.float32), (1.0 / std).astype(np.float32)

    def rows(self, idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy((self.raw(idx) - self.mean) * self.scale)

    def chunks(self, idx: np.ndarray) -> Iterator[np.ndarray]:
        for start in range(0, len(idx), self.chunk_rows):
            yield idx[start:start + self.chunk_rows]


# ---------------------------------------------------------------------- classifier
def _fit_lbfgs(x: torch.Tensor, y: torch.Tensor, num_classes: int, wd: float) -> torch.Tensor:
    """Full-batch L-BFGS; returns the weights with the bias as last row, (d + 1) x C."""
    w = torch.zeros(x.shape[1] + 1, num_classes, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=LBFGS_MAX_ITER, history_size=20,
                            tolerance_grad=1e-6, tolerance_change=1e-10,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w[:-1] + w[-1], y) + wd * (w[:-1] ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()


def _fit_minibatch(inputs: _Inputs, idx: np.ndarray, y_all: np.ndarray, num_classes: int,
                   wds: Sequence[float], epochs: int, batch_size: int, seed: int,
                   device: torch.device) -> torch.Tensor:
    """Adam on minibatches, one model per weight decay trained together: G x (d + 1) x C."""
    rng = np.random.default_rng(seed)
    g = len(wds)
    w = torch.zeros(g, inputs.width + 1, num_classes, device=device, requires_grad=True)
    decay = torch.tensor(list(wds), dtype=torch.float32, device=device)
    batch = max(1, min(batch_size, inputs.chunk_rows))
    steps_per_epoch = math.ceil(len(idx) / batch)
    total = epochs * steps_per_epoch
    opt = torch.optim.Adam([w], lr=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    for _ in range(epochs):
        perm = rng.permutation(idx)
        for start in range(0, len(perm), batch):
            nodes = np.sort(perm[start:start + batch])
            x = inputs.rows(nodes).to(device)
            y = torch.from_numpy(y_all[nodes]).to(device)
            logits = torch.einsum("bd,gdc->gbc", x, w[:, :-1]) + w[:, -1:, :]
            ce = F.cross_entropy(logits.reshape(-1, num_classes), y.repeat(g), reduction="none")
            loss = ce.view(g, -1).mean(1).sum() + (decay * (w[:, :-1] ** 2).sum((1, 2))).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return w.detach()


def _predict(inputs: _Inputs, idx: np.ndarray, weights: torch.Tensor, device) -> np.ndarray:
    """Predicted classes of rows ``idx`` for G stacked models ``weights`` (G x (d+1) x C): G x m."""
    out = []
    with torch.no_grad():
        for chunk in inputs.chunks(idx):
            x = inputs.rows(chunk).to(device)
            logits = torch.einsum("bd,gdc->gbc", x, weights[:, :-1]) + weights[:, -1:, :]
            out.append(logits.argmax(-1).cpu().numpy())
    return np.concatenate(out, axis=1) if out else np.zeros((len(weights), 0), dtype=np.int64)


# ---------------------------------------------------------------------- one probe
def _run_probe(embedding, graph: Graph, split: str, train_frac: float, val_frac: float,
               seeds: int, label_ratio: float, concat_features: bool, dims: Optional[int],
               stratify: bool, weight_decays: Sequence[float], chunk_size: Optional[int],
               epochs: int, batch_size: int, device: Optional[str]) -> dict:
    start_time = time.perf_counter()
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dims = int(embedding.shape[1]) if dims is None else min(int(dims), int(embedding.shape[1]))
    features = graph.x.numpy() if concat_features else None
    width = dims + (0 if features is None else features.shape[1])
    chunk_rows = int(chunk_size) if chunk_size else max(256, MAX_CHUNK_ELEMENTS // width)
    inputs = _Inputs(embedding, dims, features, chunk_rows)
    y_all = graph.y.numpy().astype(np.int64)
    num_classes = graph.num_classes
    labeled = np.flatnonzero(y_all >= 0)
    wds = [float(w) for w in weight_decays]
    if not wds or any(w < 0 for w in wds):
        raise ConfigError(f"weight decays must be a non-empty list of non-negative numbers, got {wds}")
    evaluator = _make_evaluator(graph.name) if split == "official" else None

    per_seed = []
    sizes = {}
    for seed in range(int(seeds)):
        rng = np.random.default_rng(seed)
        parts = (_official_split(graph, y_all) if split == "official"
                 else _random_split(labeled, y_all, train_frac, val_frac, rng, stratify))
        train = parts["train"]
        if label_ratio < 1:
            keep = max(1, int(round(label_ratio * len(train))))
            train = np.sort(np.random.default_rng(10_000 + seed).choice(train, keep, replace=False))
        for key, idx in (("train", train), ("valid", parts["valid"]), ("test", parts["test"])):
            if len(idx) == 0:
                raise ConfigError(f"the {split} split of '{graph.name}' leaves no {key} nodes")
        sizes = {"train_size": int(len(train)), "val_size": int(len(parts["valid"])),
                 "test_size": int(len(parts["test"]))}
        inputs.fit(train)
        if len(train) <= chunk_rows:
            x = inputs.rows(train).to(dev)
            y = torch.from_numpy(y_all[train]).to(dev)
            weights = torch.stack([_fit_lbfgs(x, y, num_classes, wd) for wd in wds])
            del x
            mode = "full-batch L-BFGS"
        else:
            weights = _fit_minibatch(inputs, train, y_all, num_classes, wds, epochs, batch_size,
                                     seed, dev)
            mode = "minibatch Adam"
        val_pred = _predict(inputs, parts["valid"], weights, dev)
        val_acc = [100.0 * float((p == y_all[parts["valid"]]).mean()) for p in val_pred]
        best = max(range(len(wds)), key=lambda i: (val_acc[i], wds[i]))
        test_pred = _predict(inputs, parts["test"], weights[best:best + 1], dev)[0]
        test_acc = _accuracy(y_all[parts["test"]], test_pred, evaluator)
        per_seed.append({"seed": seed, "test_accuracy": test_acc, "val_accuracy": val_acc[best],
                         "weight_decay": wds[best]})
        # the official split with all its labels and the full-batch fit: every seed repeats this fit
        deterministic = split == "official" and label_ratio >= 1 and mode == "full-batch L-BFGS"
        if deterministic:
            break

    accs = np.array([r["test_accuracy"] for r in per_seed])
    note = ({"note": "official split, all its labels, full-batch L-BFGS: the fit is deterministic, so one "
                     "fit is reported (no std over seeds)"} if deterministic else {})
    return {
        **note,
        "accuracy_mean": float(accs.mean()),
        "accuracy_std": None if deterministic else float(accs.std()),
        "val_accuracy_mean": float(np.mean([r["val_accuracy"] for r in per_seed])),
        "per_seed": per_seed,
        "split": split,
        "stratify": bool(stratify) if split == "random" else None,
        **sizes,
        "label_ratio": float(label_ratio),
        "dims": dims,
        "concat_features": bool(concat_features),
        "input_dim": width,
        "num_classes": num_classes,
        "weight_decays": wds,
        "mode": mode,
        "evaluator": "ogb" if evaluator is not None else "accuracy",
        "seconds": time.perf_counter() - start_time,
    }


def _make_evaluator(name: str):
    if not name.lower().startswith("ogbn-"):
        return None
    from graph_eigen.data.ogb import ogb_evaluator

    return ogb_evaluator(name.lower())


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, evaluator) -> float:
    if evaluator is None:
        return 100.0 * float((y_true == y_pred).mean())
    result = evaluator.eval({"y_true": y_true.reshape(-1, 1), "y_pred": y_pred.reshape(-1, 1)})
    return 100.0 * float(result["acc"])
