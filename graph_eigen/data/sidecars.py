"""Node features and labels of a graph file: beside it, or in files named after its path.

Beside an edge list ``<stem>.csv`` (found without being named): ``<stem>.features.npy`` (n, F),
or ``<stem>.features.npz`` (a scipy sparse matrix written by ``scipy.sparse.save_npz``), and
``<stem>.labels.npy``. Named files (``features=PATH``, ``labels=PATH`` after the graph's path):

- features: ``.npy`` (n, F); ``.npz`` (scipy sparse); ``.json`` mapping each node id to the list
  of its feature ids (sets of binary features, as the MUSAE graphs ship them), read as a sparse
  0/1 matrix;
- labels: ``.npy``; or a text table (``.csv``, ``.tsv``, ``.txt``) with a header line, the class in
  the column ``label_column`` (default: the last one) and the node id in ``id_column`` (default:
  row i is node i; nodes without a row are unlabeled).

Labels may be class ids (integers, -1 = unlabeled) or class names: names are mapped to ids 0..C-1
in sorted order, and the names are kept (``Graph.label_names``, then every run's embedding
sidecar and probe results), so an id can always be read back as its class.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np
import scipy.sparse as sp

from graph_eigen.data.edge_lists import column_index, integer_ids, is_number, sniff
from graph_eigen.errors import DatasetNotFoundError, InvalidGraphError

log = logging.getLogger(__name__)

TEXT_TABLES = (".csv", ".tsv", ".txt")


def beside(graph_path: Path, kind: str) -> Optional[Path]:
    """The ``<stem>.<kind>.npy`` (or, for features, ``.npz``) file beside ``graph_path``, if any."""
    for suffix in (".npy", ".npz") if kind == "features" else (".npy",):
        path = graph_path.with_name(f"{graph_path.stem}.{kind}{suffix}")
        if path.is_file():
            return path
    return None


def read_features(path: Path):
    """Features from ``.npy`` (dense), ``.npz`` (scipy sparse) or ``.json`` (feature-id lists)."""
    _check_exists(path, "features")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            return sp.load_npz(path)
        if suffix == ".json":
            return _feature_sets(json.loads(path.read_text(encoding="utf-8")), path)
        if suffix == ".npy":
            return _numbers(np.load(path, allow_pickle=False), path, "features")
    except (ValueError, OSError, EOFError, KeyError, UnicodeDecodeError) as exc:
        raise InvalidGraphError(f"cannot read features '{path}': {exc}") from None
    raise InvalidGraphError(f"features '{path}': expected .npy, .npz (scipy sparse) or .json (feature ids per node)")


def read_labels(path: Path, label_column=None, id_column=None) -> tuple[np.ndarray, Optional[tuple[str, ...]]]:
    """(label id per node, class names or None) from ``.npy`` or a text table (see the module doc)."""
    _check_exists(path, "labels")
    if path.suffix.lower() in TEXT_TABLES:
        values = _table_labels(path, label_column, id_column)
    else:
        if label_column is not None or id_column is not None:
            raise InvalidGraphError(f"labels '{path}': label_column and id_column apply to text tables only")
        try:
            values = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise InvalidGraphError(f"cannot read labels '{path}': {exc}") from None
    return class_ids(values, path)


def class_ids(values: np.ndarray, path: Path) -> tuple[np.ndarray, Optional[tuple[str, ...]]]:
    """Class ids of ``values`` and the class names when they are strings (sorted; '' = unlabeled)."""
    if values.dtype.kind not in "US":
        return _numbers(values, path, "labels"), None
    names = np.unique(values[values != ""])
    ids = np.searchsorted(names, values)
    ids[values == ""] = -1
    log.info("labels of %s: %d class names mapped to ids in sorted order (%s, ...)", path, len(names),
             ", ".join(map(str, names[:5])))
    return ids.astype(np.int64), tuple(str(s) for s in names)


def _table_labels(path: Path, label_column, id_column) -> np.ndarray:
    layout = sniff(path)
    if layout.header_line is None:
        raise InvalidGraphError(f"labels '{path}': a text table of labels needs a header line naming its columns")
    label_at = column_index(layout, label_column if label_column is not None else len(layout.fields) - 1, "label")
    id_at = None if id_column is None else column_index(layout, id_column, "id")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f, delimiter=layout.delimiter or " ", skipinitialspace=True)
                if row and not row[0].lstrip().startswith("#")][1:]
    width = max(label_at, id_at or 0) + 1
    short = next((i for i, row in enumerate(rows) if len(row) < width), None)
    if short is not None:
        raise InvalidGraphError(f"labels '{path}': data row {short + 1} has {len(rows[short])} fields, {width} needed")
    labels = np.array([row[label_at].strip() for row in rows])
    if all(_is_integer(s) for s in labels):
        labels = labels.astype(np.int64)
    if id_at is None:
        return labels
    ids = integer_ids(np.array([[float(row[id_at]) if is_number(row[id_at]) else np.nan for row in rows]]),
                      "label ids")[0]
    if ids.min() < 0:
        raise InvalidGraphError(f"labels '{path}': negative node id {int(ids.min())}")
    out = np.full(int(ids.max()) + 1, -1 if labels.dtype.kind == "i" else "", dtype=labels.dtype)
    out[ids] = labels
    return out


def _feature_sets(content, path: Path) -> sp.csr_matrix:
    """A 0/1 sparse matrix from {node id: [feature ids]} (or a list of lists, row i = node i)."""
    if isinstance(content, dict):
        items = list(content.items())
    elif isinstance(content, list):
        items = list(enumerate(content))
    else:
        raise InvalidGraphError(f"features '{path}': expected a JSON object of node id -> list of feature ids")
    rows, cols = [], []
    for key, feats in items:
        if not str(key).isdigit() or not isinstance(feats, list) or not all(isinstance(v, int) and v >= 0
                                                                            for v in feats):
            raise InvalidGraphError(f"features '{path}': entry {key!r} is not a node id with a list of feature ids "
                                    f"(non-negative integers)")
        rows.extend([int(key)] * len(feats))
        cols.extend(feats)
    n = max((int(key) for key, _ in items), default=-1) + 1
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n, max(cols, default=-1) + 1))
    matrix.data[:] = 1.0  # a feature listed twice is still one
    return matrix


def _numbers(array: np.ndarray, path: Path, kind: str) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidGraphError(f"{kind} file '{path}' must hold numbers (class ids for labels, or class "
                                f"names as strings), got dtype {array.dtype}")
    return array


def _check_exists(path: Path, kind: str) -> None:
    if not path.is_file():
        raise DatasetNotFoundError(f"{kind} file '{path}' does not exist")


def _is_integer(s: str) -> bool:
    return s.lstrip("-").isdigit()
