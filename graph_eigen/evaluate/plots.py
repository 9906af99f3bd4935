"""Pictures of a run folder (PNG, matplotlib's Agg canvas; pyplot's global state is not used).

:func:`plot_run` writes into ``RUN_DIR/plots/``:

- ``training_curves.png``: loss and eigenvalue estimates ``eig`` per step (metrics.jsonl);
- ``spectrum.png``: exact eigenvalues, Rayleigh quotients and learned eigenvalues (eval.json);
- ``truncation.png``: probe accuracy against the number of leading dimensions (probe.json);
- ``embedding_2d.png``: PCA of the embedding (at most 20k nodes) coloured by class.

A picture whose input is missing is skipped with a log message; an input that is present but
unreadable (not JSON, no record in metrics.jsonl) is an error naming the file.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from graph_eigen.errors import CheckpointError, GraphEigenError
from graph_eigen.runs.folder import EMBEDDINGS, EVAL, METRICS, PLOTS, PROBE

log = logging.getLogger(__name__)

MAX_SCATTER_NODES = 20_000


def plot_run(run_dir: str | Path, labels: Optional[np.ndarray] = None,
             load_labels: bool = True) -> list[Path]:
    """Write the run's PNGs; returns their paths.

    ``labels`` (one class id per node, -1 = unlabeled) colour the 2-D view; without them
    the dataset named in the run's config.json is loaded when ``load_labels`` is true.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise CheckpointError(f"run folder '{run}' does not exist")
    out_dir = run / PLOTS
    written = []
    for name, draw in (("training_curves", _training_curves), ("spectrum", _spectrum),
                       ("truncation", _truncation)):
        fig = draw(run)
        if fig is not None:
            written.append(_save(fig, out_dir / f"{name}.png"))
    fig = _embedding_2d(run, labels, load_labels)
    if fig is not None:
        written.append(_save(fig, out_dir / "embedding_2d.png"))
    return written


# ---------------------------------------------------------------------- helpers
def _save(fig: Figure, path: Path) -> Path:
    from graph_eigen.io import atomic_write

    FigureCanvasAgg(fig)
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))


def _read_json(path: Path) -> Optional[dict]:
    if not path.is_file():
        log.info("%s not found: skipping its picture", path)
        return None
    try:
        content = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"'{path}' is not valid JSON ({str(exc).splitlines()[0]}): cannot draw its picture; "
                              f"write it again (graph-eigen eval / probe)") from None
    if not isinstance(content, dict):
        raise CheckpointError(f"'{path}' must hold a JSON object, got {type(content).__name__}")
    return content


def _training_curves(run: Path) -> Optional[Figure]:
    path = run / METRICS
    if not path.is_file():
        log.info("%s not found: skipping the training curves", path)
        return None
    records = []
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except UnicodeDecodeError:
        lines = [""]
    for line in lines:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a partly written last line of an interrupted run
        if isinstance(rec, dict) and "step" in rec:
            records.append(rec)
    if lines and not records:
        raise CheckpointError(f"'{path}' holds no training record (JSON lines with a step): cannot draw the "
                              f"training curves")
    loss = [(r["step"], r["loss"]) for r in records if isinstance(r.get("loss"), (int, float))]
    eig = [(r["step"], r["eig"]) for r in records if isinstance(r.get("eig"), list) and r["eig"]]
    panels = [p for p, data in (("loss", loss), ("eig", eig)) if data]
    if not panels:
        log.info("%s has no loss or eig records: skipping the training curves", path)
        return None
    fig = Figure(figsize=(5.5 * len(panels), 4))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        if panel == "loss":
            steps, values = zip(*loss)
            ax.plot(steps, values, lw=1)
            ax.set_title("training loss")
            ax.set_ylabel("loss")
        else:
            width = max(len(v) for _, v in eig)
            steps = np.array([s for s, _ in eig])
            values = np.full((len(eig), width), np.nan)
            for i, (_, v) in enumerate(eig):
                values[i, :len(v)] = [np.nan if x is None else x for x in v]
            for j in range(width):
                ax.plot(steps, values[:, j], lw=1, label=f"{j + 1}" if width <= 10 else None)
            ax.set_title("eigenvalue estimates")
            ax.set_ylabel("eig")
            if width <= 10:
                ax.legend(fontsize="small", ncol=2)
        ax.set_xlabel("step")
    return fig


def _spectrum(run: Path) -> Optional[Figure]:
    report = _read_json(run / EVAL)
    if report is None:
        return None
    series = [(key, report.get(key)) for key in
              ("exact_eigenvalues", "rayleigh_quotients", "learned_eigenvalues")]
    series = [(k, v) for k, v in series if isinstance(v, list) and v]
    if not series:
        log.info("eval.json has no eigenvalues: skipping the spectrum")
        return None
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    styles = {"exact_eigenvalues": "k-o", "rayleigh_quotients": "C0-s", "learned_eigenvalues": "C1-^"}
    for key, values in series:
        values = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, styles[key], ms=3, lw=1,
                label=key.replace("_", " "))
    ax.set_xlabel("index")
    ax.set_ylabel("eigenvalue of L_sym")
    ax.set_title("learned vs exact spectrum")
    ax.legend()
    return fig


def _truncation(run: Path) -> Optional[Figure]:
    probe = _read_json(run / PROBE)
    if probe is None:
        return None
    curve = probe.get("truncation")
    if not isinstance(curve, dict) or not curve.get("dims"):
        log.info("probe.json has no truncation curve: skipping it")
        return None
    dims = np.array(curve["dims"])
    mean = np.array(curve["accuracy_mean"], dtype=float)
    std = np.array(curve.get("accuracy_std") or np.zeros_like(mean), dtype=float)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.errorbar(dims, mean, yerr=std, fmt="-o", ms=4, capsize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("leading dimensions used")
    ax.set_ylabel("probe accuracy (%)")
    ax.set_title("truncation curve")
    ax.grid(alpha=0.3)
    return fig


def _embedding_2d(run: Path, labels: Optional[np.ndarray], load_labels: bool) -> Optional[Figure]:
    path = run / EMBEDDINGS
    if not path.is_file():
        log.info("%s not found: skipping the 2-D view", path)
        return None
    emb = np.load(path, mmap_mode="r")
    if labels is None and load_labels:
        labels = _labels_from_config(run)
    if labels is None:
        log.info("no labels for %s: skipping the 2-D view", run)
        return None
    labels = np.asarray(labels).reshape(-1)
    if emb.ndim != 2 or len(labels) != emb.shape[0]:
        log.warning("embeddings.npy has shape %s but there are %d labels: skipping the 2-D view",
                    emb.shape, len(labels))
        return None
    from sklearn.decomposition import PCA

    n = emb.shape[0]
    rows = np.arange(n)
    if n > MAX_SCATTER_NODES:
        rows = np.sort(np.random.default_rng(0).choice(n, MAX_SCATTER_NODES, replace=False))
    x = np.asarray(emb[rows], dtype=np.float64)
    if not np.isfinite(x).all():
        log.warning("embeddings.npy holds non-finite values: skipping the 2-D view")
        return None
    if x.shape[1] >= 2:
        xy = PCA(n_components=2, random_state=0).fit_transform(x)
    else:
        xy = np.column_stack([x[:, 0], np.zeros(len(x))])
    y = labels[rows]
    fig = Figure(figsize=(6, 5.5))
    ax = fig.subplots()
    unl = y < 0
    if unl.any():
        ax.scatter(xy[unl, 0], xy[unl, 1], s=2, c="lightgray", label="unlabeled")
    cmap = class_colormap(int(y.max(initial=0)) + 1)
    ax.scatter(xy[~unl, 0], xy[~unl, 1], s=2, c=y[~unl], cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, alpha=0.7)
    ax.set_title(f"embedding, PCA of {len(rows)} nodes, coloured by class")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def class_colormap(num_classes: int):
    """A qualitative colormap with a distinct colour for each of ``num_classes`` classes: tab10,
    tab20, then tab20 + tab20b + tab20c (60 colours), then evenly spaced turbo colours."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    for name, size in (("tab10", 10), ("tab20", 20)):
        if num_classes <= size:
            return ListedColormap(colormaps[name].colors, name=name)
    colours = [c for name in ("tab20", "tab20b", "tab20c") for c in colormaps[name].colors]
    if num_classes > len(colours):
        colours = colormaps["turbo"](np.linspace(0.0, 1.0, num_classes))
    return ListedColormap(colours[:num_classes], name=f"classes{num_classes}")


def _labels_from_config(run: Path) -> Optional[np.ndarray]:
    from graph_eigen.runs.checkpoint import load_config
    from graph_eigen.runs.inputs import run_graph

    try:
        graph = run_graph(load_config(run), operator=False)  # the labels: no operator options needed
    except (GraphEigenError, ImportError, OSError, ValueError) as exc:
        log.warning("cannot load the run's dataset for labels (%s)", exc)
        return None
    return None if graph.y is None else graph.y.numpy()
