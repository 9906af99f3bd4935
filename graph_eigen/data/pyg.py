"""PyTorch Geometric datasets read from a local, read-only root (or downloaded into the cache).

PyG writes ``processed/`` next to ``raw/``, so the root's ``raw/`` folder is copied into
``default_cache()/pyg/<hash of the root>/`` and PyG's class is pointed at that copy.

Raw folder each PyG class expects under its root (PyG 2.x ``raw_dir``):

==========================  ==========================  ==================================
name                        PyG class                   raw folder under the root
==========================  ==========================  ==================================
Cora, CiteSeer, PubMed      ``Planetoid(root, name)``   ``<Name>/raw`` (as given)
Photo, Computers            ``Amazon(root, name)``      ``<Name>/raw`` (``capitalize()``)
CS, Physics                 ``Coauthor(root, name)``    ``<Name>/raw`` (as given)
DBLP                        ``CitationFull(root, n)``   ``dblp/raw`` (``lower()``)
Actor                       ``Actor(root + "/Actor")``  ``Actor/raw``
==========================  ==========================  ==================================
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import logging
import os
import pickle
import shutil
import zipfile
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from graph_eigen.data.paths import default_cache
from graph_eigen.errors import DatasetNotFoundError, InvalidGraphError
from graph_eigen.graph.core import Graph

log = logging.getLogger(__name__)

_PLANETOID_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


@dataclass(frozen=True)
class _Spec:
    folder: str  # dataset folder under the root, which holds raw/
    raw_files: tuple[str, ...]  # files PyG needs in raw/ (else it would download them)
    make: Callable[[str], object]  # cache root -> PyG dataset


def _planetoid(name: str) -> _Spec:
    def make(root: str):
        from torch_geometric.datasets import Planetoid

        return Planetoid(root, name, split="public")

    return _Spec(name, tuple(f"ind.{name.lower()}.{p}" for p in _PLANETOID_PARTS), make)


def _amazon(name: str) -> _Spec:
    def make(root: str):
        from torch_geometric.datasets import Amazon

        return Amazon(root, name)

    return _Spec(name.capitalize(), (f"amazon_electronics_{name.lower()}.npz",), make)


def _coauthor(name: str) -> _Spec:
    def make(root: str):
        from torch_geometric.datasets import Coauthor

        return Coauthor(root, name)

    return _Spec(name, (f"ms_academic_{name[:3].lower()}.npz",), make)


def _dblp() -> _Spec:
    def make(root: str):
        from torch_geometric.datasets import CitationFull

        return CitationFull(root, "DBLP")

    return _Spec("dblp", ("dblp.npz",), make)


def _actor() -> _Spec:
    def make(root: str):
        from torch_geometric.datasets import Actor

        return Actor(os.path.join(root, "Actor"))

    files = ("out1_node_feature_label.txt", "out1_graph_edges.txt") + tuple(
        f"film_split_0.6_0.2_{i}.npz" for i in range(10)
    )
    return _Spec("Actor", files, make)


_SPECS: dict[str, Callable[[], _Spec]] = {
    "Cora": lambda: _planetoid("Cora"),
    "CiteSeer": lambda: _planetoid("CiteSeer"),
    "PubMed": lambda: _planetoid("PubMed"),
    "Photo": lambda: _amazon("Photo"),
    "Computers": lambda: _amazon("Computers"),
    "CS": lambda: _coauthor("CS"),
    "Physics": lambda: _coauthor("Physics"),
    "DBLP": _dblp,
    "Actor": _actor,
}


def load_pyg(name: str, root: Optional[str]) -> Graph:
    """Load PyG dataset ``name`` (a canonical name from ``PYG_NAMES``) as a cleaned Graph.

    ``root`` holds ``<folder>/raw`` in PyG's layout and is never written to; with ``root=None``
    PyG downloads the dataset into the cache.
    """
    if name not in _SPECS:
        raise DatasetNotFoundError(f"unknown PyG dataset '{name}'; known: {', '.join(_SPECS)}")
    spec = _SPECS[name]()
    cache_root = os.path.join(default_cache(), "pyg", "download" if root is None else _root_key(root))
    # one process at a time copies and processes a dataset folder of the cache: other jobs and the
    # ranks of a distributed run share it, and PyG's processing is not safe to run twice at once
    with _cache_lock(os.path.join(cache_root, f".{spec.folder}.lock")):
        if root is not None:
            _copy_raw(os.path.join(root, spec.folder, "raw"), spec.raw_files,
                      os.path.join(cache_root, spec.folder))
        log.info("loading %s through PyG from %s", name, cache_root)
        data = _make(spec, name, root, cache_root)
    return Graph.from_edges(
        data.edge_index,
        num_nodes=data.num_nodes,
        x=data.x,
        y=data.y.long(),
        split=_split(data),
        name=name,
    )


@contextlib.contextmanager
def _cache_lock(path: str):
    """An exclusive ``flock`` on ``path`` (created), waited for, released on exit."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _make(spec: _Spec, name: str, root: Optional[str], cache_root: str):
    """The graph of PyG's dataset object; a failed download or corrupt raw files as one error."""
    notes = io.StringIO()  # PyG prints "Downloading"/"Processing..." to stderr: logged instead
    try:
        with contextlib.redirect_stderr(notes):
            return spec.make(cache_root)[0]
    except (OSError, ValueError, RuntimeError, EOFError, KeyError, IndexError, TypeError,
            pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        if root is None:
            raise DatasetNotFoundError(f"cannot download '{name}' ({detail}); pass `root` with a folder that "
                                       f"holds it, or set GRAPH_EIGEN_DATA") from exc
        raise InvalidGraphError(f"cannot read '{name}' from '{root}': its raw files look corrupt ({detail})") from exc
    finally:
        if notes.getvalue().strip():
            log.info("PyG: %s", " ".join(notes.getvalue().split()))


def _root_key(root: str) -> str:
    """A short, stable key for a root folder, so two roots never share a cache copy."""
    return hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:12]


def _copy_raw(src: str, files: tuple[str, ...], dataset_dir: str) -> None:
    """Copy ``src``'s raw files into ``dataset_dir/raw``; drop a stale ``processed/`` on change."""
    if not os.path.isdir(src):
        raise DatasetNotFoundError(f"dataset folder '{src}' not found (PyG raw layout expected)")
    missing = [f for f in files if not os.path.isfile(os.path.join(src, f))]
    if missing:
        raise DatasetNotFoundError(f"dataset folder '{src}' lacks {', '.join(missing)}")
    dst = os.path.join(dataset_dir, "raw")
    os.makedirs(dst, exist_ok=True)
    changed = False
    for f in files:
        s, d = os.path.join(src, f), os.path.join(dst, f)
        if not os.path.isfile(d) or os.path.getsize(d) != os.path.getsize(s) \
                or os.path.getmtime(d) < os.path.getmtime(s):
            shutil.copyfile(s, d)  # content only: the copy must stay writable
            changed = True
    if changed:
        shutil.rmtree(os.path.join(dataset_dir, "processed"), ignore_errors=True)


def _split(data) -> Optional[dict[str, torch.Tensor]]:
    """The official split as index tensors (column 0 when there are several), else None."""
    masks = [getattr(data, k, None) for k in ("train_mask", "val_mask", "test_mask")]
    if any(m is None for m in masks):
        return None
    if masks[0].dim() == 2:  # Actor: 10 fixed splits, one per column
        masks = [m[:, 0] for m in masks]
    return {k: m.nonzero().view(-1) for k, m in zip(("train", "valid", "test"), masks)}
