"""Graphs from user files (``file:PATH``), and :func:`save_npz` to write one.

Two formats:

- ``.npz`` with ``edge_index`` (2, E) or ``edges`` (E, 2) integer node ids, and optional
  ``x`` (n, F) features, ``y`` (n,) labels (-1 = unlabeled), ``edge_weight`` (E,),
  ``num_nodes`` (scalar), ``split_train`` / ``split_valid`` / ``split_test`` (node ids) and
  ``name`` (string). This is what :func:`save_npz` writes.
- an edge list as text (``.csv``, ``.tsv``, ``.txt``, ``.edges``, anything not ``.npz``): one
  edge per line, ``src,dst`` or ``src,dst,weight``, separated by commas, tabs or spaces.
  Lines starting with ``#`` are comments; an optional header line (e.g. ``src,dst``) may come
  before the first edge; a first column without a header name (pandas' index) is skipped. Node
  ids are integers in ``[0, n)`` (not relabeled). Features and labels may sit next to the file
  as ``<stem>.features.npy`` (n, F; or ``<stem>.features.npz``, a scipy sparse matrix written by
  ``scipy.sparse.save_npz``) and ``<stem>.labels.npy`` (n,; class ids, or class names as strings,
  mapped to ids in sorted order), where ``<stem>`` is the path without its extension
  (``g.csv`` -> ``g.features.npy``).

Edges may be given in one or both directions; they are symmetrized, self-loops dropped and
duplicates merged (largest weight) by :meth:`Graph.from_edges`.
"""
from __future__ import annotations

import logging
import os
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..errors import DatasetNotFoundError, InvalidGraphError
from ..graph import SPLIT_NAMES, Graph

log = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]


def load_file(path: PathLike) -> Graph:
    """Load a graph from an ``.npz`` file or a text edge list (see the module docstring)."""
    p = Path(path).expanduser()
    if not str(path).strip():
        raise DatasetNotFoundError("file: no path given (use file:PATH)")
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise DatasetNotFoundError(f"graph file '{p}' {what}")
    try:
        if p.suffix.lower() == ".npz":
            return _load_npz(p)
        if p.suffix.lower() in (".json", ".npy", ".pkl", ".pickle", ".parquet"):
            raise InvalidGraphError(f"a {p.suffix} file is not a graph: give an .npz or a text edge list "
                                    f"(src,dst per line); features and labels go beside it as "
                                    f"<stem>.features.npy and <stem>.labels.npy")
        return _load_edge_list(p)
    except InvalidGraphError as exc:
        msg = str(exc)
        if str(p) in msg:
            raise
        raise InvalidGraphError(f"graph file '{p}': {msg}") from None


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
    ei = _integer_ids(ei, "edge ids")
    num_nodes = None
    if "num_nodes" in arrays:
        nn = arrays["num_nodes"]
        if nn.size != 1 or not np.issubdtype(nn.dtype, np.integer):
            raise InvalidGraphError(f"'num_nodes' must be one integer, got {nn!r}")
        num_nodes = int(nn.reshape(-1)[0])
    split = {k: arrays[f"split_{k}"] for k in SPLIT_NAMES if f"split_{k}" in arrays}
    name = str(arrays["name"]) if "name" in arrays and arrays["name"].ndim == 0 else p.stem
    return Graph.from_edges(
        ei,
        num_nodes=num_nodes,
        x=arrays.get("x"),
        y=arrays.get("y"),
        edge_weight=arrays.get("edge_weight"),
        split=split or None,
        name=name,
    )


# ---------------------------------------------------------------------- text edge lists
def _load_edge_list(p: Path) -> Graph:
    header_line, delimiter, columns = _sniff(p)
    index_column = header_line is not None and columns[0] == ""  # pandas' to_csv with its index
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                p, dtype=np.float64, comments="#", delimiter=delimiter,
                skiprows=header_line + 1 if header_line is not None else 0, ndmin=2,
                usecols=range(1, len(columns)) if index_column else None,
            )
    except ValueError:
        raise InvalidGraphError(_first_bad_line(p, header_line, delimiter)) from None
    if table.size == 0:
        raise InvalidGraphError("the edge list holds no edges")
    if table.shape[1] not in (2, 3):
        raise InvalidGraphError(
            f"expected 2 or 3 columns (src, dst[, weight]), found {table.shape[1]}"
        )
    ei = _integer_ids(table[:, :2].T, "node ids")
    weight = table[:, 2] if table.shape[1] == 3 else None
    x = _sidecar(p, "features")
    y = _sidecar(p, "labels")
    num_nodes = int(ei.max()) + 1
    for arr in (x, y):
        if arr is not None:
            num_nodes = max(num_nodes, arr.shape[0])
    check_sparse_ids(ei, num_nodes)
    log.info("file: %d edges from %s", ei.shape[1], p)
    return Graph.from_edges(ei, num_nodes=num_nodes, x=x, y=y, edge_weight=weight, name=p.stem)


def _sniff(p: Path) -> tuple[Optional[int], Optional[str], list[str]]:
    """(line index of a header, or None; delimiter: ',' or None for tabs/spaces; the first
    line's fields). A header has no number among its first two fields (``src,dst``, or
    ``,id_1,id_2`` as pandas writes it with its index); a line mixing a number and a word
    (``0,1O``) is data that does not parse, not a header."""
    try:
        with open(p, "r", encoding="utf-8") as f:
            for i, line in enumerate(f):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                delimiter = "," if "," in text else None
                fields = [s.strip() for s in text.split(delimiter)]
                is_header = not any(_is_number(s) for s in fields[:2])
                return (i if is_header else None), delimiter, fields
    except UnicodeDecodeError:
        raise InvalidGraphError(
            "not a text edge list (not UTF-8; npz files need the .npz suffix)"
        ) from None
    except OSError as exc:
        raise DatasetNotFoundError(f"cannot read graph file '{p}': {exc}") from None
    return None, None, []


def _first_bad_line(p: Path, header_line: Optional[int], delimiter: Optional[str]) -> str:
    """The message for the first line that does not parse as ``int, int[, float]``."""
    with open(p, "r", encoding="utf-8") as f:
        width = None
        for i, line in enumerate(f):
            text = line.split("#", 1)[0].strip()
            if not text or i == header_line:
                continue
            fields = [s.strip() for s in text.split(delimiter)]
            if not all(_is_number(s) for s in fields):
                return f"line {i + 1}: cannot parse '{text}' as src, dst[, weight] numbers"
            if width is not None and len(fields) != width:
                return f"line {i + 1}: {len(fields)} columns, earlier lines have {width}"
            width = len(fields)
    return "the edge list could not be parsed"


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


MAX_NODE_ID = 2 ** 31 - 2  # node ids are not relabeled: an id sets the graph's size
SPARSE_IDS = 1_000_000  # more nodes than this and 100 per node named by an edge: ids need renumbering


def check_sparse_ids(ei: np.ndarray, num_nodes: int) -> None:
    """Refuse ids that would make a graph mostly of isolated nodes (a 2e9 id among a few edges
    would allocate gigabytes before anything else fails), naming the largest id."""
    if num_nodes <= SPARSE_IDS:
        return
    named = np.unique(ei).size
    if num_nodes > 100 * named:
        raise InvalidGraphError(f"node id {int(ei.max())} makes a graph of {num_nodes:,} nodes, but the edges name "
                                f"only {named:,}: ids are not relabeled, number the nodes 0..n-1")


def _integer_ids(ei: np.ndarray, what: str) -> np.ndarray:
    if ei.size and np.issubdtype(ei.dtype, np.number) and np.nanmax(np.abs(ei)) > MAX_NODE_ID:
        raise InvalidGraphError(f"{what} go up to {np.nanmax(np.abs(ei)):g}, more than {MAX_NODE_ID} (ids are "
                                f"not relabeled: number the nodes 0..n-1)")
    if np.issubdtype(ei.dtype, np.integer):
        return ei.astype(np.int64, copy=False)
    if not np.issubdtype(ei.dtype, np.floating):
        raise InvalidGraphError(f"{what} must be integers, got dtype {ei.dtype}")
    bad = ~np.isfinite(ei) | (ei != np.round(ei))
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        raise InvalidGraphError(
            f"{what} must be integers; edge {col} (counting from 0) is "
            f"({ei[0, col]:g}, {ei[1, col]:g})"
        )
    return ei.astype(np.int64)


def _sidecar(p: Path, kind: str) -> Optional[np.ndarray]:
    """``<stem>.features.npy`` (or a scipy sparse ``<stem>.features.npz``) and ``<stem>.labels.npy``
    (integer class ids, or strings: mapped to 0..C-1 in sorted order, as ``np.unique`` lists them)."""
    side = p.with_name(f"{p.stem}.{kind}.npy")
    sparse_side = p.with_name(f"{p.stem}.{kind}.npz")
    if kind == "features" and not side.is_file() and sparse_side.is_file():
        import scipy.sparse as sp

        try:
            return sp.load_npz(sparse_side)
        except (ValueError, OSError, EOFError, KeyError) as exc:
            raise InvalidGraphError(f"cannot read sparse features '{sparse_side}' (scipy.sparse.save_npz format): "
                                    f"{exc}") from None
    if not side.is_file():
        return None
    try:
        array = np.load(side, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidGraphError(f"cannot read {kind} file '{side}': {exc}") from None
    if kind == "labels" and array.dtype.kind in "US":  # class names: ids in sorted order
        names, ids = np.unique(array, return_inverse=True)
        log.info("labels of %s: %d class names mapped to ids in sorted order (%s, ...)", side, len(names),
                 ", ".join(map(str, names[:5])))
        return ids.reshape(array.shape)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidGraphError(f"{kind} file '{side}' must hold numbers (class ids for labels, or class "
                                f"names as strings), got dtype {array.dtype}")
    return array
