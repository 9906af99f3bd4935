"""Benchmark-local variants of the library's hot spots, which ``profile_step.py`` times against
the library as it is (nothing in graph_eigen is changed): BASiS losses on the seed rows only,
a sage export by sparse products, a loader over the graph's own CSR, the eigsh of BASiS's
``sampled`` batch kernel at several tolerances. Built from public pieces of graph_eigen, PyG
and scipy only."""
from __future__ import annotations

import time
import warnings
from contextlib import nullcontext
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
import torch

from graph_eigen.model.objectives.alignment import apply_affine, fit_affine
from harness import StageTimeout, time_limit


# ---------------------------------------------------------------------- BASiS step
def basis_seed_losses(basis) -> dict:
    """BASiS ('global' operator) losses that compute the targets for the seed rows only: with
    the alignment in numpy, and in torch (its own threads, no numpy BLAS)."""
    reference64 = basis.reference.double()

    def seed_targets(batch) -> np.ndarray:  # the global operator's (unaligned) targets of the seeds alone
        return basis.batch_eigenvectors(SimpleNamespace(n_id=batch.n_id[: batch.num_seeds]))[0]

    def seeds_only_loss(batch, psi):
        b = batch.num_seeds
        phi = seed_targets(batch)
        t = fit_affine(phi[: batch.num_anchors], reference64.numpy())
        y = torch.from_numpy(apply_affine(t, phi)).float()
        return (psi[:b] - y).pow(2).sum(1).mean(), {}

    def torch_loss(batch, psi):
        b = batch.num_seeds
        phi = torch.from_numpy(seed_targets(batch))
        ones = torch.ones(b, 1, dtype=phi.dtype)
        design = torch.cat([phi, ones], 1)
        solution = torch.linalg.lstsq(design[: batch.num_anchors], reference64, driver="gelsd").solution
        y = (design @ solution).float()
        return (psi[:b] - y).pow(2).sum(1).mean(), {}

    return {"seed rows only (numpy)": seeds_only_loss, "seed rows only, alignment in torch": torch_loss}


def step_ms(encoder, opt, loss_fn, batches: list, one_thread: bool = False) -> dict:
    """Mean ms per step of forward, loss, backward+optimizer over ``batches`` (``one_thread``:
    numpy's BLAS limited to one thread)."""
    from threadpoolctl import threadpool_limits

    tot = {"forward": 0.0, "loss": 0.0, "backward": 0.0}
    with threadpool_limits(limits=1, user_api="blas") if one_thread else nullcontext():
        for batch in batches:
            t0 = time.perf_counter()
            psi = encoder(batch)
            t1 = time.perf_counter()
            loss, _ = loss_fn(batch, psi)
            t2 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            t3 = time.perf_counter()
            for k, v in zip(tot, (t1 - t0, t2 - t1, t3 - t2)):
                tot[k] += v
    out = {k: 1000 * v / len(batches) for k, v in tot.items()}
    out["step"] = sum(out.values())
    return out


# ---------------------------------------------------------------------- sage export
@torch.no_grad()
def sage_export_spmm(net, graph, chunk: int = 1 << 18) -> torch.Tensor:
    """Layer-wise full-graph GraphSAGE inference (mean aggregation) by CSR matmul over row chunks.

    Same result as ``BasicGNN.inference`` with a full-neighborhood loader, without a loader:
    per layer, ``lin_l(mean_j x_j) + lin_r(x_i)``; when the layer narrows the width, ``lin_l``
    (without its bias) is applied before the aggregation, which commutes with it.
    """
    from torch_geometric.nn import SAGEConv

    n = graph.num_nodes
    row, col = graph.edge_index  # sorted by (row, col), both directions
    deg = torch.bincount(row, minlength=n)
    crow = torch.zeros(n + 1, dtype=torch.long)
    torch.cumsum(deg, 0, out=crow[1:])
    inv_deg = 1.0 / deg.clamp_min(1).float()
    warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
    x = graph.x
    convs = list(net.convs)
    for i, conv in enumerate(convs):
        assert isinstance(conv, SAGEConv) and conv.aggr == "mean" and not conv.project and not conv.normalize
        project_first = conv.out_channels < conv.in_channels
        src = x @ conv.lin_l.weight.T if project_first else x
        out = torch.empty(n, conv.out_channels)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            lo, hi = int(crow[s]), int(crow[e])
            a = torch.sparse_csr_tensor(crow[s:e + 1] - lo, col[lo:hi], torch.ones(hi - lo), size=(e - s, n))
            agg = (a @ src) * inv_deg[s:e, None]
            h = agg + conv.lin_l.bias if project_first else conv.lin_l(agg)
            out[s:e] = h + conv.lin_r(x[s:e])
        del src
        x = out.relu_() if i < len(convs) - 1 else out
    return x


@torch.no_grad()
def sage_export_cloned(net, graph, chunk: int = 65536) -> torch.Tensor:
    """``BasicGNN.inference`` with one change: each batch's output rows are copied.

    PyG's loop keeps ``conv(x, edge_index)[:batch_size]`` of the last layer, a VIEW into the
    output for every node of the batch (seeds and their neighbors), so the list of outputs keeps
    every batch's full output alive until the final ``torch.cat``.
    """
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader

    loader = NeighborLoader(Data(x=graph.x, edge_index=graph.edge_index, num_nodes=graph.num_nodes),
                            num_neighbors=[-1], batch_size=chunk, shuffle=False)
    x_all = graph.x
    for i in range(net.num_layers):
        xs = []
        for batch in loader:
            xs.append(net.inference_per_layer(i, x_all[batch.n_id], batch.edge_index, batch.batch_size).clone())
        x_all = torch.cat(xs)
    return x_all


# ---------------------------------------------------------------------- loader
def csr_loader_sample(graph, seeds: torch.Tensor) -> tuple:
    """All neighbors of ``seeds`` by a NeighborLoader over a ``SparseTensor`` built from the CSR
    the graph already has (``edge_index`` is symmetric and sorted by row, so its CSR is the CSC):
    the loader (what it keeps in memory), the batch's node ids and its edges (source, target;
    local ids)."""
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader
    from torch_sparse import SparseTensor

    n = graph.num_nodes
    row, col = graph.edge_index
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    torch.cumsum(torch.bincount(row, minlength=n), 0, out=rowptr[1:])
    adj_t = SparseTensor(rowptr=rowptr, col=col, sparse_sizes=(n, n), is_sorted=True, trust_data=True)
    loader = NeighborLoader(Data(adj_t=adj_t, x=graph.x, num_nodes=n), num_neighbors=[-1], batch_size=1)
    out = loader.collate_fn(seeds)
    out = out if loader.filter_per_worker else loader.filter_fn(out)
    r, c, _ = out.adj_t.coo()  # adj_t[target, source]
    return loader, out.n_id, torch.stack([c, r])


# ---------------------------------------------------------------------- eigsh tolerance
def sampled_batch_kernel(graph, batch) -> sp.csr_matrix:
    """The kernel of BASiS's ``sampled`` operator on ``batch``: the sampled subgraph, symmetrized,
    normalized with the global degrees (the matrix whose eigsh BASiS runs every step)."""
    ids = batch.n_id.numpy()
    src, dst = batch.edge_index.numpy()
    inv = 1.0 / np.sqrt(np.maximum(graph.degree.numpy()[ids], 1e-12))
    a = sp.csr_matrix((inv[src] * inv[dst], (src, dst)), shape=(batch.num_nodes, batch.num_nodes))
    return a.maximum(a.T).tocsr()


def eigsh_series(matrix, k: int, tols, timeout, label: str, one_thread: bool = False) -> dict:
    """Top-``k`` eigsh of ``matrix`` at each tolerance (under ``timeout``): seconds, and against the
    tightest solve that finished, the largest eigenvalue error and the smallest principal cosine."""
    from threadpoolctl import threadpool_limits

    from graph_eigen.spectral.eigsolve import top_eigenpairs

    out, solved = {}, {}
    for tol in tols:
        key = f"tol={tol:g}" + (", BLAS 1 thread" if one_thread else "")
        try:
            with time_limit(timeout), threadpool_limits(limits=1 if one_thread else None, user_api="blas"):
                t = time.perf_counter()
                vals, vecs, _ = top_eigenpairs(matrix, k, method="eigsh", seed=0, tol=tol)
                out[key] = {"seconds": time.perf_counter() - t}
            solved[tol] = (vals, vecs)
        except StageTimeout as exc:
            out[key] = {"status": str(exc)}
        print(f"=== eigsh {label} {key}: {out[key]}", flush=True)
    if solved:
        ref_tol = min(solved)
        ref_vals, ref_vecs = solved[ref_tol]
        for tol, (vals, vecs) in solved.items():
            key = f"tol={tol:g}" + (", BLAS 1 thread" if one_thread else "")
            cos = np.linalg.svd(ref_vecs.T @ vecs, compute_uv=False).min()
            out[key].update(reference=f"tol={ref_tol:g}", max_eigenvalue_error=float(np.abs(vals - ref_vals).max()),
                            min_principal_cosine=float(cos))
    return out
