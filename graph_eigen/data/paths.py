"""Where datasets are read from and where loaders may write."""
from __future__ import annotations

import os
from typing import Optional


def default_root() -> Optional[str]:
    """The data root used when none is given: ``$GRAPH_EIGEN_DATA`` if set, else None."""
    return os.environ.get("GRAPH_EIGEN_DATA") or None


def default_cache() -> str:
    """Where loaders may write (processed files, copies of read-only roots)."""
    return os.environ.get(
        "GRAPH_EIGEN_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "graph_eigen")
    )
