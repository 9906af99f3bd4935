"""Whole-graph kernels and Laplacians as scipy sparse matrices (global degrees throughout)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph

LAPLACIANS = ("sym", "rw", "unnormalized")


def inv_sqrt_degree(graph: Graph) -> np.ndarray:
    """D^-1/2 as a vector; isolated nodes get 0 (their rows of K are zero)."""
    d = graph.degree.double().numpy()
    out = np.zeros_like(d)
    np.divide(1.0, np.sqrt(d), out=out, where=d > 0)
    return out


def normalized_adjacency(graph: Graph) -> sp.csr_matrix:
    """The kernel K = D^-1/2 A D^-1/2."""
    s = sp.diags(inv_sqrt_degree(graph))
    return (s @ graph.adjacency() @ s).tocsr()


def laplacian(graph: Graph, kind: str = "sym") -> sp.csr_matrix:
    """L_sym = I - K, L_rw = I - D^-1 A, or the unnormalized L = D - A."""
    n = graph.num_nodes
    if kind == "sym":
        return (sp.identity(n, format="csr") - normalized_adjacency(graph)).tocsr()
    if kind == "rw":
        d = graph.degree.double().numpy()
        inv = np.zeros_like(d)
        np.divide(1.0, d, out=inv, where=d > 0)
        return (sp.identity(n, format="csr") - sp.diags(inv) @ graph.adjacency()).tocsr()
    if kind == "unnormalized":
        return (sp.diags(graph.degree.double().numpy()) - graph.adjacency()).tocsr()
    raise ConfigError(f"unknown laplacian '{kind}'; choose one of {', '.join(LAPLACIANS)}")
