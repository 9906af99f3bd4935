"""Whole-graph sparse products: features propagated over the graph (SGC, SIGN) and the CSR
adjacency that the neighbor loader and the GNN export read.

A_hat = D~^-1/2 (A + I) D~^-1/2 is GCN's normalization with self-loops (as PyG's ``gcn_norm``);
``propagate(graph, x, hops)`` returns ``[x, A_hat x, ..., A_hat^hops x]``. SGC classifies
A_hat^2 X linearly; the ``sign`` encoder reads the concatenation, so that a training step needs
the seed rows only (no neighbor sampling) and export is one matrix product per hop.
"""
from __future__ import annotations

import warnings

import torch

from graph_eigen.graph.core import Graph


def csr_pointers(graph: Graph) -> torch.Tensor:
    """Row pointers of the graph's adjacency: ``edge_index`` is symmetric and sorted by row."""
    rowptr = torch.zeros(graph.num_nodes + 1, dtype=torch.long)
    torch.cumsum(torch.bincount(graph.edge_index[0], minlength=graph.num_nodes), 0, out=rowptr[1:])
    return rowptr


def sparse_csr(rowptr: torch.Tensor, col: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A torch sparse CSR tensor (without the 'beta' warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.sparse_csr_tensor(rowptr, col, values, size=shape)


def adjacency_csr(graph: Graph, weighted: bool = True) -> torch.Tensor:
    """The adjacency A as a sparse CSR tensor (float32), sharing the graph's column ids;
    ``weighted=False``: every edge weighs 1 (as GNN message passing on ``edge_index`` sees it)."""
    unit = graph.edge_weight is None or not weighted
    weight = torch.ones(graph.edge_index.shape[1]) if unit else graph.edge_weight.float()
    n = graph.num_nodes
    return sparse_csr(csr_pointers(graph), graph.edge_index[1], weight, (n, n))


def propagate(graph: Graph, x: torch.Tensor, hops: int) -> list[torch.Tensor]:
    """``[x, A_hat x, ..., A_hat^hops x]`` (float32), one sparse product per hop.

    A_hat x = D~^-1/2 (A + I) D~^-1/2 x with D~ = D + I, computed as s * (A (s * x) + s * x):
    the self-loops never enter the sparse matrix.
    """
    if hops < 0:
        raise ValueError(f"hops must be >= 0, got {hops}")
    out = [x.float()]
    if hops:
        adjacency = adjacency_csr(graph)
        scale = (graph.degree.float() + 1.0).rsqrt()[:, None]
        for _ in range(hops):
            scaled = out[-1] * scale
            out.append((adjacency @ scaled).add_(scaled).mul_(scale))
    return out


def propagate_last(graph: Graph, x: torch.Tensor, hops: int, columns: int = 512) -> torch.Tensor:
    """``A_hat^hops x`` alone (float32), computed ``columns`` columns at a time: the earlier hops
    and the products' temporaries never exist for every column at once (on Coauthor CS's 6,805
    features, :func:`propagate`'s list of hops peaked at 2.85 GiB)."""
    if hops < 0:
        raise ValueError(f"hops must be >= 0, got {hops}")
    adjacency = adjacency_csr(graph)
    scale = (graph.degree.float() + 1.0).rsqrt()[:, None]
    out = torch.empty(x.shape, dtype=torch.float32)
    for first in range(0, x.shape[1], columns):
        block = x[:, first:first + columns].float()
        for _ in range(hops):
            scaled = block * scale
            block = (adjacency @ scaled).add_(scaled).mul_(scale)
        out[:, first:first + columns] = block
    return out

