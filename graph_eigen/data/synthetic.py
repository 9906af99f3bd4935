"""Synthetic graphs: a degree-corrected stochastic block model (DC-SBM) with class features.

The generator is vectorized numpy and builds a graph of ogbn-products' size (2,449,029 nodes,
~61.9M undirected edges, 100 features, 47 classes) in about a minute with 8.3 GiB peak memory,
most of both in :meth:`Graph.from_edges` (see ``benchmarks/build_sbm.py``).

Model, per undirected edge (``num_nodes * avg_degree / 2`` of them are drawn):

1. the source is drawn with probability proportional to its degree propensity ``theta``;
2. with probability ``homophily`` the target is drawn from the source's class (again by
   ``theta`` within that class), otherwise from all nodes by ``theta``.

Every node's expected degree is then ``avg_degree * theta_i / mean(theta)``.
``theta`` follows a power law with exponent ``degree_exponent`` (Pareto, minimum 1), capped
at ``1000`` and at an expected degree of ``num_nodes / 20``. Classes are assigned uniformly
at random. Features are ``class mean + noise``: the class means have i.i.d.
``N(0, CLASS_MEAN_NORM^2 / F)`` entries (norm about 3) and the noise is ``N(0, feature_noise^2)``
per entry, so features are informative but not separable: at ``feature_noise=1`` a linear
probe on the features alone scores about 66% with 47 classes and 89% with 10 (100 features).

:meth:`Graph.from_edges` then drops self-loops and merges repeated pairs, so the final
number of edges is below the target, most of the loss between high-propensity nodes of the
same class. Measured: 2.3% fewer at the products preset (60.38M edges, average degree 49.3),
5% at 20,000 nodes / 10 classes / degree 20, 7% at the small spec default (10,000 nodes).
The fraction of intra-class edges is about ``homophily + (1 - homophily) / num_classes``
(slightly less after merging). Classes of a single node get no intra-class edges.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph

log = logging.getLogger(__name__)

PROPENSITY_CAP = 1000.0  # largest theta relative to the smallest (1)
CLASS_MEAN_NORM = 3.0  # expected norm of a class mean vector (noise: feature_noise per entry)
_CHUNK = 1 << 23  # feature values drawn per step (bounds temporary memory)

# spec key -> (keyword of degree_corrected_sbm, type)
_SPEC_KEYS: dict[str, tuple[str, type]] = {
    "n": ("num_nodes", int),
    "classes": ("num_classes", int),
    "avg_degree": ("avg_degree", float),
    "features": ("num_features", int),
    "homophily": ("homophily", float),
    "degree_exponent": ("degree_exponent", float),
    "feature_noise": ("feature_noise", float),
    "seed": ("seed", int),
}
SPEC_DEFAULTS: dict[str, Any] = {
    "num_nodes": 10000,
    "num_classes": 10,
    "avg_degree": 20.0,
    "num_features": 32,
    "homophily": 0.8,
    "seed": 0,
}
PRESETS: dict[str, dict[str, Any]] = {
    # ogbn-products' size: 2,449,029 nodes, 61,859,140 undirected edges, 100 features, 47 classes
    "products": {
        "num_nodes": 2_449_029, "num_classes": 47, "avg_degree": 50.5, "num_features": 100,
    },
}


def degree_corrected_sbm(
    num_nodes: int,
    num_classes: int = 47,
    avg_degree: float = 50.5,
    num_features: int = 100,
    homophily: float = 0.8,
    degree_exponent: float = 2.5,
    feature_noise: float = 1.0,
    seed: int = 0,
    name: str = "sbm",
) -> Graph:
    """A DC-SBM graph with class-correlated float32 features; deterministic given ``seed``.

    ``avg_degree`` is ``2 * undirected_edges / num_nodes`` before duplicates are merged.
    ``num_features=0`` gives a graph without features. See the module docstring for the model.
    """
    _check_params(num_nodes, num_classes, avg_degree, num_features, homophily,
                  degree_exponent, feature_noise, seed)
    rng = np.random.default_rng(seed)
    n = int(num_nodes)
    y = rng.integers(0, num_classes, size=n, dtype=np.int64)
    theta = _propensities(rng, n, avg_degree, degree_exponent)
    edge_index = _draw_edges(rng, y, theta, num_classes, int(round(n * avg_degree / 2)), homophily)
    del theta
    x = _features(rng, y, num_classes, num_features, feature_noise)
    log.info("sbm: drew %d edges for %d nodes; building the graph", edge_index.shape[1], n)
    return Graph.from_edges(edge_index, num_nodes=n, x=x, y=y, name=name)


def load_sbm(spec: str = "") -> Graph:
    """Build a DC-SBM from a spec like ``"n=10000,classes=10,avg_degree=20,seed=0"``.

    Keys (all optional): ``preset`` (``products``), ``n``, ``classes``, ``avg_degree``,
    ``features``, ``homophily``, ``degree_exponent``, ``feature_noise``, ``seed``. A preset
    sets the defaults and the other keys override it. Defaults: a small graph of 10,000 nodes.
    """
    params = dict(SPEC_DEFAULTS)
    given: dict[str, Any] = {}
    preset = None
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise ConfigError(f"sbm spec: '{item}' is not of the form key=value")
        if key == "preset":
            if value.lower() not in PRESETS:
                raise ConfigError(
                    f"sbm spec: unknown preset '{value}'; known: {', '.join(PRESETS)}"
                )
            preset = value.lower()
            continue
        if key not in _SPEC_KEYS:
            raise ConfigError(
                f"sbm spec: unknown key '{key}'; known: preset, {', '.join(_SPEC_KEYS)}"
            )
        kwarg, kind = _SPEC_KEYS[key]
        given[kwarg] = _parse_value(key, value, kind)
    if preset is not None:
        params.update(PRESETS[preset])
        params["avg_degree"] = float(params["avg_degree"])
    params.update(given)
    name = "sbm" if preset is None else f"sbm-{preset}"
    return degree_corrected_sbm(**params, name=name)


# ---------------------------------------------------------------------- helpers
def _parse_value(key: str, value: str, kind: type):
    try:
        if kind is int:
            as_float = float(value)  # accept "2.4e6" but not "2.5"
            if not np.isfinite(as_float) or as_float != int(as_float):
                raise ValueError
            return int(as_float)
        return float(value)
    except (ValueError, OverflowError):
        what = "an integer" if kind is int else "a number"
        raise ConfigError(f"sbm spec: '{key}' must be {what}, got '{value}'") from None


def _check_params(n, classes, avg_degree, features, homophily, exponent, noise, seed) -> None:
    checks = [
        ("n", isinstance(n, (int, np.integer)) and n >= 2, "an integer >= 2"),
        ("classes", isinstance(classes, (int, np.integer)) and 1 <= classes <= n,
         f"an integer in [1, n={n}]"),
        ("avg_degree", np.isfinite(avg_degree) and 0 < avg_degree <= n - 1,
         f"a number in (0, n-1 = {n - 1}]"),
        ("features", isinstance(features, (int, np.integer)) and features >= 0,
         "an integer >= 0"),
        ("homophily", np.isfinite(homophily) and 0.0 <= homophily <= 1.0, "a number in [0, 1]"),
        ("degree_exponent", np.isfinite(exponent) and exponent > 2.0, "a number > 2"),
        ("feature_noise", np.isfinite(noise) and noise >= 0.0, "a number >= 0"),
        ("seed", isinstance(seed, (int, np.integer)) and seed >= 0, "an integer >= 0"),
    ]
    values = dict(n=n, classes=classes, avg_degree=avg_degree, features=features,
                  homophily=homophily, degree_exponent=exponent, feature_noise=noise, seed=seed)
    for key, ok, what in checks:
        if not ok:
            raise ConfigError(f"sbm: '{key}' must be {what}, got {values[key]!r}")


def _propensities(rng: np.random.Generator, n: int, avg_degree: float, exponent: float):
    """Power-law degree propensities (Pareto, minimum 1), capped; float64, shape (n,)."""
    theta = (1.0 - rng.random(n)) ** (-1.0 / (exponent - 1.0))
    # cap so that no node's expected degree exceeds n / 20 (the mean of theta is below
    # alpha / (alpha - 1) for the Pareto alpha = exponent - 1; one fixed-point step suffices)
    cap = PROPENSITY_CAP
    for _ in range(2):
        mean = np.minimum(theta, cap).mean()
        cap = max(1.0, min(PROPENSITY_CAP, (n / 20.0) * mean / avg_degree))
    np.minimum(theta, cap, out=theta)
    return theta


def _draw_edges(rng, y, theta, num_classes: int, m: int, homophily: float) -> np.ndarray:
    """Draw ``m`` i.i.d. edges of the DC-SBM; returns a (2, m) int64 array (may hold repeats).

    Drawn by counts rather than one categorical draw per edge (which is slow at scale):
    source counts per node are multinomial in ``theta``; for each class, the edges leaving it
    get a Binomial(., homophily) number of targets drawn inside the class (multinomial in
    ``theta``) and the rest from a shared pool drawn over all nodes; targets are then shuffled
    against the sources, which gives the same distribution as drawing edge by edge.
    """
    order = np.argsort(y, kind="stable")  # nodes grouped by class
    sizes = np.bincount(y, minlength=num_classes)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    theta_sorted = theta[order]
    src_counts = rng.multinomial(m, theta_sorted / theta_sorted.sum())
    out = np.empty((2, m), dtype=np.int64)
    out[0] = np.repeat(order, src_counts)  # sources, grouped by class
    edge_bounds = np.concatenate([[0], np.cumsum(src_counts)])[bounds]
    leaving = np.diff(edge_bounds)  # edges whose source is in class c
    intra = rng.binomial(leaving, homophily)
    pool_counts = rng.multinomial(int((leaving - intra).sum()), theta / theta.sum())
    pool = rng.permutation(np.repeat(np.arange(y.shape[0], dtype=np.int64), pool_counts))
    used = 0
    for c in np.flatnonzero(leaving):
        lo, hi = bounds[c], bounds[c + 1]
        t = theta_sorted[lo:hi]
        inside = np.repeat(order[lo:hi], rng.multinomial(int(intra[c]), t / t.sum()))
        outside = pool[used:used + leaving[c] - intra[c]]
        used += leaving[c] - intra[c]
        out[1, edge_bounds[c]:edge_bounds[c + 1]] = rng.permutation(
            np.concatenate([inside, outside])
        )
    return out


def _features(rng, y, num_classes: int, num_features: int, noise: float):
    """``class mean + Gaussian noise`` as float32 (n, F), or None when ``num_features == 0``."""
    if num_features == 0:
        return None
    scale = CLASS_MEAN_NORM / np.sqrt(num_features)
    means = rng.normal(0.0, scale, size=(num_classes, num_features))
    x = means.astype(np.float32)[y]
    rows = max(1, _CHUNK // num_features)
    for lo in range(0, x.shape[0], rows):
        block = x[lo:lo + rows]
        block += np.float32(noise) * rng.standard_normal(block.shape, dtype=np.float32)
    return x
