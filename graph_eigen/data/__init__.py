"""Where graphs come from: one registry that maps a dataset name to its loader.

Names (case-insensitive where they are words):

- PyG datasets read from a local root in PyG's raw layout: ``Cora``, ``CiteSeer``, ``PubMed``,
  ``Photo``, ``Computers``, ``CS``, ``Physics``, ``DBLP``, ``Actor``;
- OGB node datasets: ``ogbn-arxiv``, ``ogbn-products``, any ``ogbn-*``;
- ``mnist-knn`` (kNN affinity graph of the MNIST test images' pixels);
- ``mnist-siamese`` (the BASiS paper's MNIST graph: its kernel over 16-dim Siamese codes);
- ``sbm:n=10000,classes=10,avg_degree=20,features=100,seed=0`` (synthetic DC-SBM);
- ``tiled:CS,nodes=1000000,noise=0.5,p=0.1,seed=0`` (a real graph tiled into copies: a
  products-like graph of any size from real data, see tiled.py);
- ``file:PATH[,key=value,...]`` (an edge list in CSV or npz, with optional features and labels;
  the options name columns and node data files, see files.py).
"""
from __future__ import annotations

import os
from typing import Optional

from graph_eigen.errors import DatasetNotFoundError
from graph_eigen.graph.core import Graph
from graph_eigen.data.paths import default_cache, default_root  # noqa: F401  (part of this package's interface)

PYG_NAMES = ("Cora", "CiteSeer", "PubMed", "Photo", "Computers", "CS", "Physics", "DBLP", "Actor")


def dataset_names() -> list[str]:
    """The names the registry knows (patterns shown with a placeholder)."""
    return list(PYG_NAMES) + ["ogbn-*", "mnist-knn", "mnist-siamese", "sbm:key=value,...", "tiled:BASE,key=value,...",
                              "file:PATH[,key=value,...]"]


def load_dataset(name: str, root: Optional[str] = None) -> Graph:
    """Load a dataset by registry name.

    Parameters
    ----------
    name : str
        A name of the registry (see this module's docstring), e.g. ``Cora``, ``ogbn-products``,
        ``tiled:CS,nodes=1000000`` or ``file:edges.csv,src=id_1,dst=id_2``.
    root : str, optional
        The folder that holds the dataset (read-only; default ``$GRAPH_EIGEN_DATA``).

    Returns
    -------
    Graph

    Raises
    ------
    DatasetNotFoundError
        When the name is unknown or its files are missing.
    InvalidGraphError
        When the files do not hold a valid graph.
    """
    if not isinstance(name, str) or not name.strip():
        raise DatasetNotFoundError("no dataset name given")
    root = root if root is not None else default_root()
    if root is not None and not os.path.isdir(root):
        raise DatasetNotFoundError(f"dataset root '{root}' does not exist or is not a folder")
    lowered = name.lower()
    pyg = {n.lower(): n for n in PYG_NAMES}
    if lowered in pyg:
        from graph_eigen.data.pyg import load_pyg

        return load_pyg(pyg[lowered], root)
    if lowered.startswith("ogbn-"):
        from graph_eigen.data.ogb import load_ogb

        return load_ogb(lowered, root)
    if lowered == "mnist-knn" or lowered.startswith("mnist-knn:"):
        from graph_eigen.data.mnist import load_mnist_knn

        return load_mnist_knn(root, spec=name.partition(":")[2])
    if lowered == "mnist-siamese" or lowered.startswith("mnist-siamese:"):
        from graph_eigen.data.mnist import load_mnist_siamese

        return load_mnist_siamese(root, spec=name.partition(":")[2])
    if lowered.startswith("sbm:") or lowered == "sbm":
        from graph_eigen.data.synthetic import load_sbm

        return load_sbm(name.partition(":")[2])
    if lowered.startswith("tiled:"):
        from graph_eigen.data.tiled import load_tiled

        return load_tiled(name.partition(":")[2], root, load_dataset)
    if lowered.startswith("file:"):
        from graph_eigen.data.files import load_file

        return load_file(name[len("file:"):])
    raise DatasetNotFoundError(
        f"unknown dataset '{name}'; known: {', '.join(dataset_names())}"
    )
