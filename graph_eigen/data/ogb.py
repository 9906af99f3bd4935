"""OGB node property prediction datasets (``ogbn-*``) through ``PygNodePropPredDataset``.

The root is read-only: the dataset folder's ``raw/``, ``split/`` and ``mapping/`` are copied
into ``default_cache()/ogb/<hash of the root>/`` and OGB processes that copy. Three quirks of
ogb 1.3.6 are handled here:

- importing ogb starts a thread that asks PyPI for a newer version (``OUTDATED_IGNORE`` does not
  stop it; it only fails fast where ``pkg_resources`` is missing); ``outdated`` is hidden
  during the import, which makes ogb skip the check;
- ogb asks an interactive ``input()`` question when a dataset folder lacks
  ``RELEASE_v<version>.txt``; the cache copy always gets that file, so it never asks;
- ogb calls ``torch.load`` on its processed file without ``weights_only``, which torch >= 2.6
  reads as ``weights_only=True`` and rejects PyG's ``Data`` internals. See :func:`_ogb_loading`.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import sys
from typing import Iterator, Optional
from unittest import mock

from graph_eigen.data.paths import default_cache
from graph_eigen.errors import DatasetNotFoundError
from graph_eigen.graph.core import Graph

log = logging.getLogger(__name__)

os.environ.setdefault("OUTDATED_IGNORE", "1")


def load_ogb(name: str, root: Optional[str]) -> Graph:
    """Load OGB node dataset ``name`` (e.g. ``ogbn-products``) with its official split.

    ``root`` holds ``<root>/ogbn_<x>/`` in OGB's layout (``raw/``, ``split/``) and is never
    written to; with ``root=None`` OGB downloads the dataset into the cache.
    """
    name = name.lower()
    dataset_cls, meta = _dataset_class(), ogb_meta(name)
    dir_name = name.replace("-", "_")
    if root is None:
        cache_root = os.path.join(default_cache(), "ogb", "download")
        folder = os.path.join(cache_root, dir_name)
        if os.path.isdir(folder) and not os.path.isdir(os.path.join(folder, "raw")):
            shutil.rmtree(folder)  # a partial download of ours; OGB would ask about it
    else:
        cache_root = os.path.join(default_cache(), "ogb", _root_key(root))
        _copy_dataset(_source_folder(root, dir_name), os.path.join(cache_root, dir_name))
    for folder in (os.path.join(cache_root, d) for d in (dir_name, dir_name + "_pyg")):
        if os.path.isdir(os.path.join(folder, "raw")):
            _write_release(folder, meta["version"])
    log.info("loading %s through OGB from %s", name, cache_root)
    with _ogb_loading():
        dataset = dataset_cls(name=name, root=cache_root)
        split = dataset.get_idx_split()
        data = dataset[0]
    return Graph.from_edges(
        data.edge_index,
        num_nodes=data.num_nodes,
        x=data.x,
        y=data.y.view(-1).long(),
        split=split,
        name=name,
    )


def ogb_evaluator(name: str):
    """OGB's official ``Evaluator`` for node dataset ``name``."""
    _dataset_class()  # imports ogb without its network version check
    from ogb.nodeproppred import Evaluator

    return Evaluator(name.lower())


def ogb_meta(name: str) -> dict:
    """The column of ogb's ``master.csv`` for node dataset ``name`` (all values are strings)."""
    import pandas as pd

    _dataset_class()
    from ogb.nodeproppred import dataset_pyg

    path = os.path.join(os.path.dirname(dataset_pyg.__file__), "master.csv")
    master = pd.read_csv(path, index_col=0, keep_default_na=False)
    if name not in master:
        raise DatasetNotFoundError(
            f"unknown OGB node dataset '{name}'; known: {', '.join(master.keys())}"
        )
    return dict(master[name])


# ---------------------------------------------------------------------- helpers
def _dataset_class():
    """``PygNodePropPredDataset``, imported with ``outdated`` hidden (no PyPI request)."""
    if "ogb" not in sys.modules:
        saved = sys.modules.get("outdated")
        sys.modules["outdated"] = None  # ogb.version catches the ImportError: no check thread
        try:
            import ogb  # noqa: F401
        finally:
            if saved is None:
                del sys.modules["outdated"]
            else:
                sys.modules["outdated"] = saved
    from ogb.nodeproppred import PygNodePropPredDataset

    return PygNodePropPredDataset


@contextlib.contextmanager
def _ogb_loading() -> Iterator[None]:
    """Let ogb build and read its dataset on torch >= 2.6, quietly and without prompts.

    ogb saves a tuple ``(Data, slices)`` with ``torch.save`` and reads it back with a bare
    ``torch.load``. Rather than turning ``weights_only`` off (which would allow arbitrary code
    in the pickle), the three PyG classes that pickle holds beyond those PyG already allows are
    allow-listed for the duration of the call only (``torch.serialization.safe_globals``).
    Downloads (``root=None``) proceed without ogb's size question; ogb's progress output goes
    to the debug log.
    """
    from ogb.nodeproppred import dataset_pyg
    from torch.serialization import safe_globals
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    out = io.StringIO()
    try:
        with safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage]), \
                mock.patch.object(dataset_pyg, "decide_download", lambda url: True), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield
    finally:
        if out.getvalue().strip():
            log.debug("ogb: %s", out.getvalue().strip())


def _root_key(root: str) -> str:
    """A short, stable key for a root folder, so two roots never share a cache copy."""
    return hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:12]


def _source_folder(root: str, dir_name: str) -> str:
    """``<root>/ogbn_<x>`` (or OGB's older ``ogbn_<x>_pyg``) holding ``raw/`` and ``split/``."""
    for candidate in (dir_name, dir_name + "_pyg"):
        folder = os.path.join(root, candidate)
        if os.path.isdir(os.path.join(folder, "raw")) and os.path.isdir(
            os.path.join(folder, "split")
        ):
            return folder
    raise DatasetNotFoundError(
        f"OGB dataset folder '{os.path.join(root, dir_name)}' not found "
        "(expected raw/ and split/ in OGB's layout)"
    )


def _copy_dataset(src: str, dst: str) -> None:
    """Mirror ``raw/``, ``split/`` and ``mapping/`` of ``src`` into ``dst``.

    Files are copied only when missing or changed; any change drops the stale ``processed/``.
    """
    changed = False
    for sub in ("raw", "split", "mapping"):
        for dirpath, _, files in os.walk(os.path.join(src, sub)):
            rel = os.path.relpath(dirpath, src)
            os.makedirs(os.path.join(dst, rel), exist_ok=True)
            for f in files:
                s, d = os.path.join(dirpath, f), os.path.join(dst, rel, f)
                if not os.path.isfile(d) or os.path.getsize(d) != os.path.getsize(s) \
                        or os.path.getmtime(d) < os.path.getmtime(s):
                    shutil.copyfile(s, d)  # content only: the copy must stay writable
                    changed = True
    if changed:
        shutil.rmtree(os.path.join(dst, "processed"), ignore_errors=True)


def _write_release(folder: str, version) -> None:
    """Mark a dataset folder whose raw files are present as current, so ogb never prompts."""
    path = os.path.join(folder, f"RELEASE_v{version}.txt")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write("provided locally; written by graph_eigen\n")
