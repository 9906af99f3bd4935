"""Graphs from user files (``file:PATH``), and :func:`save_npz` to write one.

Two formats:

- ``.npz`` with ``edge_index`` (2, E) or ``edges`` (E, 2) integer node ids, and optional
  ``x`` (n, F) features (or a CSR matrix as ``x_data``, ``x_indices``, ``x_indptr``,
  ``x_shape``), ``y`` (n,) labels (-1 = unlabeled; or class names), ``edge_weight`` (E,),
  ``num_nodes`` (scalar), ``split_train`` / ``split_valid`` / ``split_test`` (node ids) and
  ``name`` (string). This is what :func:`save_npz` writes.
- an edge list as text (``.csv``, ``.tsv``, ``.txt``, ``.edges``, anything not ``.npz``): one
  edge per line, ``src,dst`` or ``src,dst,weight``, as spreadsheets and pandas write them
  (commas, semicolons, tabs or spaces; quoted fields; a header; pandas' index column; see
  edge_lists.py). Node ids are integers in ``[0, n)`` (not relabeled). Features and labels sit
  beside the file as ``<stem>.features.npy`` (or ``.npz``, scipy sparse) and
  ``<stem>.labels.npy``, or are named (see sidecars.py).

Options follow the path, separated by commas: ``file:edges.csv,src=id_1,dst=id_2`` names the
edge list's columns (``weight=`` too), ``features=PATH`` (``.npy``, ``.npz`` or ``.json`` feature
ids per node) and ``labels=PATH`` (``.npy`` or a text table, with ``label_column=`` and
``id_column=``) name the node data files, relative to the graph file's folder.

Edges may be given in one or both directions; they are symmetrized, self-loops dropped and
duplicates merged (largest weight) by :meth:`Graph.from_edges`.
"""
from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Union

import numpy as np

from graph_eigen.data.edge_lists import check_sparse_ids, integer_ids, read_edge_list
from graph_eigen.data.sidecars import beside, class_ids, read_features, read_labels
from graph_eigen.errors import DatasetNotFoundError, InvalidGraphError
from graph_eigen.graph.core import SPLIT_NAMES, Graph

log = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]


FILE_OPTIONS = ("src", "dst", "weight", "features", "labels", "label_column", "id_column")


def load_file(spec: PathLike) -> Graph:
    """Load a graph from an ``.npz`` file or a text edge list, with options after the path (see
    the module docstring)."""
    path, options = parse_file_spec(str(spec))
    p = Path(path).expanduser()
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise DatasetNotFoundError(f"graph file '{p}' {what}")
    try:
        if p.suffix.lower() in (".json", ".npy", ".pkl", ".pickle", ".parquet"):
            raise InvalidGraphError(f"a {p.suffix} file is not a graph: give an .npz or a text edge list "
                                    f"(src,dst per line); features and labels go beside it as "
                                    f"<stem>.features.npy and <stem>.labels.npy, or features=PATH, labels=PATH")
        columns = {k: options.pop(k) for k in ("src", "dst", "weight") if k in options}
        if p.suffix.lower() == ".npz":
            if columns:
                raise InvalidGraphError("src=, dst= and weight= name the columns of a text edge list, not of an npz")
            return _with_node_files(_load_npz(p), p, options)
        return _load_edge_list(p, columns, options)
    except InvalidGraphError as exc:
        msg = str(exc)
        if str(p) in msg:
            raise
        raise InvalidGraphError(f"graph file '{p}': {msg}") from None


def parse_file_spec(spec: str) -> tuple[str, dict]:
    """(path, options) of ``PATH[,key=value,...]``; a spec that is an existing file is all path."""
    if not spec.strip():
        raise DatasetNotFoundError("file: no path given (use file:PATH)")
    if Path(spec).expanduser().is_file():
        return spec, {}
    path, *items = spec.split(",")
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in FILE_OPTIONS:
            raise InvalidGraphError(f"file:{spec}: '{item}' is not an option of the form key=value with key one of "
                                    f"{', '.join(FILE_OPTIONS)}")
        options[key] = value.strip()
    return path, options


def save_npz(graph: Graph, path: PathLike) -> None:
    """Write ``graph`` in the npz format that :func:`load_file` reads (atomically)."""
    p = Path(path).expanduser()
    arrays: dict[str, np.ndarray] = {
        "edge_index": graph.edge_index.numpy().astype(np.int64, copy=False),
        "num_nodes": np.asarray(graph.num_nodes, dtype=np.int64),
        "name": np.asarray(graph.name),
    }
    if graph.edge_weight is not None:
        arrays["edge_weight"] = graph.edge_weight.numpy()
    if graph.x is not None:
        arrays["x"] = graph.x.numpy()
    if graph.y is not None:
        arrays["y"] = graph.y.numpy()
    for key, idx in (graph.split or {}).items():
        arrays[f"split_{key}"] = idx.numpy()
    folder = p.parent if str(p.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------- npz
def _load_npz(p: Path) -> Graph:
    if not zipfile.is_zipfile(p):
        raise InvalidGraphError(f"graph file '{p}' is not an npz archive (not a zip file)")
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise InvalidGraphError(
            f"graph file '{p}' is not a readable npz archive ({type(exc).__name__}: {exc})"
        ) from None
    if "edge_index" in arrays:
        ei = arrays["edge_index"]
        if ei.ndim != 2 or ei.shape[0] != 2:
            raise InvalidGraphError(f"'edge_index' must have shape (2, E), got {ei.shape}")
    elif "edges" in arrays:
        ei = arrays["edges"]
        if ei.ndim != 2 or ei.shape[1] != 2:
            raise InvalidGraphError(f"'edges' must have shape (E, 2), got {ei.shape}")
        ei = ei.T
    else:
        raise InvalidGraphError(
            f"npz has no 'edge_index' (2, E) or 'edges' (E, 2) array; found keys: "
            f"{', '.join(sorted(arrays)) or 'none'}"
        )
    ei = integer_ids(ei, "edge ids")
    num_nodes = None
    if "num_nodes" in arrays:
        nn = arrays["num_nodes"]
        if nn.size != 1 or not np.issubdtype(nn.dtype, np.integer):
            raise InvalidGraphError(f"'num_nodes' must be one integer, got {nn!r}")
        num_nodes = int(nn.reshape(-1)[0])
    split = {k: arrays[f"split_{k}"] for k in SPLIT_NAMES if f"split_{k}" in arrays}
    name = str(arrays["name"]) if "name" in arrays and arrays["name"].ndim == 0 else p.stem
    y, names = class_ids(arrays["y"], p) if "y" in arrays else (None, None)
    return Graph.from_edges(
        ei,
        num_nodes=num_nodes,
        x=_npz_features(arrays, p),
        y=y,
        edge_weight=arrays.get("edge_weight"),
        split=split or None,
        name=name,
        label_names=names,
    )


SPARSE_X = ("x_data", "x_indices", "x_indptr", "x_shape")


def _npz_features(arrays: dict, p: Path):
    """``x`` dense, or a CSR matrix stored as ``x_data``, ``x_indices``, ``x_indptr``, ``x_shape``
    (the arrays of ``scipy.sparse.csr_matrix``); None without features."""
    if "x" in arrays:
        return arrays["x"]
    present = [key for key in SPARSE_X if key in arrays]
    if not present:
        return None
    if len(present) < len(SPARSE_X):
        missing = sorted(set(SPARSE_X) - set(present))
        raise InvalidGraphError(f"sparse features need {', '.join(SPARSE_X)}; missing {', '.join(missing)}")
    import scipy.sparse as sp

    try:
        return sp.csr_matrix((arrays["x_data"], arrays["x_indices"], arrays["x_indptr"]),
                             shape=tuple(int(s) for s in arrays["x_shape"]))
    except (ValueError, TypeError) as exc:
        raise InvalidGraphError(f"sparse features of '{p}' are not a valid CSR matrix: {exc}") from None


# ---------------------------------------------------------------------- text edge lists
def _load_edge_list(p: Path, columns: dict, options: dict) -> Graph:
    ei, weight = read_edge_list(p, columns)
    x, y, names = _node_files(p, options)
    num_nodes = int(ei.max()) + 1
    for arr in (x, y):
        if arr is not None:
            num_nodes = max(num_nodes, arr.shape[0])
    if y is not None and y.shape[0] < num_nodes:  # nodes after the last labeled one: unlabeled
        y = np.concatenate([y, np.full(num_nodes - y.shape[0], -1, dtype=y.dtype)])
    check_sparse_ids(ei, num_nodes)
    log.info("file: %d edges from %s", ei.shape[1], p)
    return Graph.from_edges(ei, num_nodes=num_nodes, x=x, y=y, edge_weight=weight, name=p.stem, label_names=names)


def _node_files(p: Path, options: dict):
    """(features, labels, class names) named in ``options`` or found beside ``p``."""
    folder = p.parent
    named = {k: (folder / Path(options[k]).expanduser()) for k in ("features", "labels") if options.get(k)}
    features_path = named.get("features") or beside(p, "features")
    labels_path = named.get("labels") or beside(p, "labels")
    x = read_features(features_path) if features_path else None
    y, names = (read_labels(labels_path, options.get("label_column"), options.get("id_column"))
                if labels_path else (None, None))
    return x, y, names


def _with_node_files(graph: Graph, p: Path, options: dict) -> Graph:
    """An npz graph with the features or labels named in ``options`` replacing its own."""
    if not {"features", "labels"} & set(options):
        return graph
    x, y, names = _node_files(p, options)
    ei = graph.edge_index.numpy()
    return Graph.from_edges(ei, num_nodes=graph.num_nodes, x=graph.x if x is None else x,
                            y=graph.y if y is None else y, edge_weight=graph.edge_weight, split=graph.split,
                            name=graph.name, label_names=graph.label_names if y is None else names)
