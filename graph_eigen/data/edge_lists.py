"""Text edge lists as people write them: CSV or TSV from a spreadsheet, pandas or a shell.

One edge per line, ``src,dst`` or ``src,dst,weight``. The delimiter is found from the first
line (comma, semicolon, tab or ``|``; otherwise runs of spaces), fields may be quoted
(``"0","1"``), lines starting with ``#`` are comments, and an optional header line (e.g.
``src,dst``) may come before the first edge. A first column without a header name (pandas'
index, ``,id_1,id_2``) is skipped. With a header, the columns can be named:
``columns={"src": "id_1", "dst": "id_2", "weight": "w"}`` (names, or 0-based positions).
Node ids are integers in ``[0, n)``: they are not relabeled.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from graph_eigen.errors import DatasetNotFoundError, InvalidGraphError

DELIMITERS = (",", ";", "\t", "|")
QUOTE = '"'
EDGE_COLUMNS = ("src", "dst", "weight")
MAX_NODE_ID = 2 ** 31 - 2  # node ids are not relabeled: an id sets the graph's size
SPARSE_IDS = 1_000_000  # more nodes than this and 100 per node named by an edge: ids need renumbering


@dataclass
class TextLayout:
    """What the first line of a text table says: the header's line index (None: no header), the
    delimiter (None: runs of spaces) and the first line's fields, unquoted."""

    header_line: Optional[int]
    delimiter: Optional[str]
    fields: list[str]


def read_edge_list(path: Path, columns: Optional[dict] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(node ids (2, E) int64, weights (E,) or None) of the edge list at ``path``; ``columns``
    names the src, dst and weight columns (see the module docstring)."""
    layout = sniff(path)
    usecols = _edge_columns(layout, columns or {})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(path, dtype=np.float64, comments="#", delimiter=layout.delimiter, quotechar=QUOTE,
                               skiprows=0 if layout.header_line is None else layout.header_line + 1, ndmin=2,
                               usecols=usecols)
    except ValueError:
        raise InvalidGraphError(_first_bad_line(path, layout, usecols)) from None
    if table.size == 0:
        raise InvalidGraphError("the edge list holds no edges")
    if table.shape[1] not in (2, 3):
        raise InvalidGraphError(f"expected 2 or 3 columns (src, dst[, weight]), found {table.shape[1]}; "
                                f"name them with src=, dst= (and weight=) after the path")
    ids = integer_ids(table[:, :2].T, "node ids")
    return ids, (table[:, 2] if table.shape[1] == 3 else None)


def sniff(path: Path) -> TextLayout:
    """The layout of the text table at ``path`` from its first non-comment line. A header has no
    number among its first two fields (``src,dst``, or ``,id_1,id_2`` as pandas writes it); a
    line mixing a number and a word (``0,1O``) is data that does not parse, not a header."""
    try:
        with open(path, "r", encoding="utf-8-sig") as f:
            for i, line in enumerate(f):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                delimiter = next((d for d in DELIMITERS if d in text), None)
                fields = split_fields(text, delimiter)
                is_header = not any(is_number(s) for s in fields[:2])
                return TextLayout(i if is_header else None, delimiter, fields)
    except UnicodeDecodeError:
        raise InvalidGraphError("not a text edge list (not UTF-8; npz files need the .npz suffix)") from None
    except OSError as exc:
        raise DatasetNotFoundError(f"cannot read graph file '{path}': {exc}") from None
    return TextLayout(None, None, [])


def split_fields(text: str, delimiter: Optional[str]) -> list[str]:
    """The fields of one line, stripped of spaces and of the quotes around them."""
    return [s.strip().strip(QUOTE).strip() for s in text.split(delimiter)]


def column_index(layout: TextLayout, column, what: str) -> int:
    """The 0-based position of ``column`` (a header name, or a position) in the table."""
    if isinstance(column, (int, np.integer)) or (isinstance(column, str) and column.isdigit()):
        position = int(column)
        if not 0 <= position < len(layout.fields):
            raise InvalidGraphError(f"{what} column {position} does not exist: the table has {len(layout.fields)} "
                                    f"columns (0-based)")
        return position
    if layout.header_line is None:
        raise InvalidGraphError(f"{what} column '{column}' is named, but the file has no header line")
    if column not in layout.fields:
        raise InvalidGraphError(f"{what} column '{column}' is not in the header ({', '.join(layout.fields)})")
    return layout.fields.index(column)


def _edge_columns(layout: TextLayout, columns: dict) -> Optional[list[int]]:
    """The columns to read, in src, dst[, weight] order; None: all of them."""
    unknown = set(columns) - set(EDGE_COLUMNS)
    if unknown:
        raise InvalidGraphError(f"unknown edge-list column option(s) {sorted(unknown)}; known: src, dst, weight")
    if columns:
        if not {"src", "dst"} <= set(columns):
            raise InvalidGraphError("name both the src= and the dst= columns (weight= is optional)")
        return [column_index(layout, columns[key], key) for key in EDGE_COLUMNS if key in columns]
    if layout.header_line is not None and layout.fields and layout.fields[0] == "":  # pandas' index column
        return list(range(1, len(layout.fields)))
    return None


def _first_bad_line(path: Path, layout: TextLayout, usecols: Optional[list[int]]) -> str:
    """The message for the first line that does not parse as ``int, int[, float]``."""
    with open(path, "r", encoding="utf-8-sig") as f:
        width = None
        for i, line in enumerate(f):
            text = line.split("#", 1)[0].strip()
            if not text or i == layout.header_line:
                continue
            fields = split_fields(text, layout.delimiter)
            picked = [fields[c] for c in usecols if c < len(fields)] if usecols else fields
            if (usecols and len(picked) < len(usecols)) or not all(is_number(s) for s in picked):
                return f"line {i + 1}: cannot parse '{text}' as src, dst[, weight] numbers"
            if width is not None and len(fields) != width:
                return f"line {i + 1}: {len(fields)} columns, earlier lines have {width}"
            width = len(fields)
    return "the edge list could not be parsed"


def is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def check_sparse_ids(ei: np.ndarray, num_nodes: int) -> None:
    """Refuse ids that would make a graph mostly of isolated nodes (a 2e9 id among a few edges
    would allocate gigabytes before anything else fails), naming the largest id."""
    if num_nodes <= SPARSE_IDS:
        return
    named = np.unique(ei).size
    if num_nodes > 100 * named:
        raise InvalidGraphError(f"node id {int(ei.max())} makes a graph of {num_nodes:,} nodes, but the edges name "
                                f"only {named:,}: ids are not relabeled, number the nodes 0..n-1")


def integer_ids(ei: np.ndarray, what: str) -> np.ndarray:
    """``ei`` as int64 node ids, refusing non-integers and ids too large to be a node count."""
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
        raise InvalidGraphError(f"{what} must be integers; edge {col} (counting from 0) is "
                                f"({ei[0, col]:g}, {ei[1, col]:g})")
    return ei.astype(np.int64)
