"""Neighbor-sampled batches with the reweighted batch kernel (see docs/algorithms.md).

A batch holds B seeds drawn uniformly without replacement, their sampled neighborhoods (PyG's
NeighborLoader), and the sampled seed -> neighbor edges of the kernel, each weighted by
``(deg_i / f) * K_ij`` (``deg_i`` = number of neighbors). Neighbors are drawn WITH replacement,
f draws per seed (a neighbor drawn twice counts twice): torch-sparse's draw without replacement
is not uniform (measured: with 8 neighbors and f = 3, inclusion rates 0.28 to 0.44 instead of
0.375), which biases any inverse-probability weight; with replacement each draw is uniform.
With f = -1 every neighbor is taken once (weight K_ij). Then

    R = (1/B) sum_{seed i} sum_{sampled j} w_ij psi_i psi_j^T

is an unbiased estimate of Psi^T K Psi / n, so ``R_jj`` estimates an eigenvalue of K when the
columns of Psi are normalized to unit mean square over the seeds.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Iterator, Optional, Sequence

import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.operators import inv_sqrt_degree


@dataclass
class Batch:
    """One training batch; local node ``t`` is global node ``n_id[t]``, seeds come first."""

    n_id: torch.Tensor  # (N,) global ids
    num_seeds: int
    x: Optional[torch.Tensor]  # (N, F) features of the batch nodes, or None
    edge_index: torch.Tensor  # (2, E) sampled subgraph, PyG convention (source -> target)
    op_index: torch.Tensor  # (2, m) local [seed, sampled neighbor] pairs of the kernel
    op_weight: torch.Tensor  # (m,) (deg_i / c_i) * K_ij
    num_anchors: int = 0  # the first ``num_anchors`` seeds are anchors (BASiS)
    _kernel: Optional[torch.Tensor] = None

    @property
    def kernel(self) -> torch.Tensor:
        """The reweighted batch kernel as a sparse CSR (N x N) tensor; only seed rows are non-zero."""
        if self._kernel is None:
            n = self.num_nodes
            coo = torch.sparse_coo_tensor(self.op_index, self.op_weight, (n, n)).coalesce()
            self._kernel = coo.to_sparse_csr()
        return self._kernel

    def without_kernel(self) -> "Batch":
        """The same batch with its cached kernel dropped (``kernel`` builds it again on first use)."""
        return replace(self, _kernel=None)

    @property
    def num_nodes(self) -> int:
        return int(self.n_id.numel())

    def to(self, device: torch.device) -> "Batch":
        """The batch with its tensors on ``device`` (node ids too); itself when already there."""
        if self.n_id.device == torch.device(device):
            return self
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return Batch(n_id=move(self.n_id), num_seeds=self.num_seeds, x=move(self.x),
                     edge_index=move(self.edge_index), op_index=move(self.op_index),
                     op_weight=move(self.op_weight), num_anchors=self.num_anchors)


def check_sampling(batch_size: int, fanouts: Sequence[int]) -> None:
    if not isinstance(batch_size, int) or batch_size < 0:
        raise ConfigError(f"batch size must be a positive integer (0 = full graph), got {batch_size!r}")
    if len(fanouts) == 0:
        raise ConfigError("fanouts must name at least one hop, e.g. 10,5 (-1 = all neighbors)")
    for f in fanouts:
        if f == 0 or f < -1:
            raise ConfigError(f"fanout must be positive or -1 (all neighbors), got {f}")


class BatchSampler:
    """Iterates over neighbor-sampled batches of a graph, one epoch per ``epoch()`` call.

    ``batch_size=0`` means full-graph mode: one batch holding every node and every edge.
    ``anchors`` (BASiS) are added to every batch, ahead of the uniformly drawn seeds.
    ``with_features=False`` leaves ``Batch.x`` empty (encoders that do not read features).
    ``with_neighbors=False`` gives batches of the seeds alone, without sampling (encoders that
    read only their own node, objectives that need no batch operator): no loader is built.
    """

    def __init__(
        self,
        graph: Graph,
        batch_size: int,
        fanouts: Sequence[int],
        seed: int = 0,
        seed_nodes: Optional[torch.Tensor] = None,
        anchors: Optional[torch.Tensor] = None,
        with_features: bool = True,
        with_neighbors: bool = True,
    ) -> None:
        check_sampling(batch_size, fanouts)
        self.graph = graph
        self.fanouts = list(fanouts)
        pool = torch.arange(graph.num_nodes) if seed_nodes is None else torch.as_tensor(seed_nodes).long()
        self.anchors = torch.empty(0, dtype=torch.long) if anchors is None else torch.as_tensor(anchors).long()
        if len(self.anchors):
            pool = pool[~torch.isin(pool, self.anchors)]
        if len(pool) == 0:
            raise ConfigError("no seed nodes to sample from")
        self.pool = pool
        self.batch_size = min(batch_size, len(pool)) if batch_size > 0 else 0
        self.generator = torch.Generator().manual_seed(seed)
        self._loader = None
        self.with_features = with_features and graph.x is not None
        self.with_neighbors = with_neighbors
        self._full_batch: Optional[Batch] = None
        self._inv_sqrt_deg = torch.from_numpy(inv_sqrt_degree(graph)).float()
        # uniform sampling draws from the neighbor COUNT (equal to the degree when unweighted)
        self._neighbor_count = torch.bincount(graph.edge_index[0], minlength=graph.num_nodes).float()

    @property
    def steps_per_epoch(self) -> int:
        return 1 if self.batch_size == 0 else -(-len(self.pool) // self.batch_size)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])

    def epoch(self) -> Iterator[Batch]:
        """The batches of one epoch: a fresh permutation of the seed pool."""
        if self.batch_size == 0:
            yield self.full_batch()
            return
        order = self.pool[torch.randperm(len(self.pool), generator=self.generator)]
        for start in range(0, len(order), self.batch_size):
            yield self.sample(order[start:start + self.batch_size])

    def batches(self) -> Iterator[Batch]:
        """Epoch after epoch without end (benchmarks that take a fixed number of steps)."""
        while True:
            empty = True
            for batch in self.epoch():
                empty = False
                yield batch
            if empty:
                return

    def full_batch(self) -> Batch:
        """Every node a seed, every edge sampled (weights are exactly K_ij); built once."""
        if self._full_batch is None:
            g = self.graph
            ei = g.edge_index
            all_nodes = torch.arange(g.num_nodes)
            op_index, op_weight = self._with_self_loops(
                torch.stack([ei[1], ei[0]]), self._kernel_weight(ei[1], ei[0], g.edge_weight), all_nodes, all_nodes)
            self._full_batch = Batch(
                n_id=all_nodes, num_seeds=g.num_nodes, x=g.x if self.with_features else None, edge_index=ei,
                op_index=op_index, op_weight=op_weight, num_anchors=len(self.anchors),
            )
        return self._full_batch

    def sample(self, seeds: torch.Tensor) -> Batch:
        """Sample the neighborhoods of ``seeds`` (anchors prepended) with PyG's NeighborLoader."""
        seeds = torch.cat([self.anchors, seeds])
        if not self.with_neighbors:
            return self.seed_batch(seeds)
        loader = self._neighbor_loader()
        out = loader.collate_fn(seeds)  # input nodes are all nodes, so positions = global ids
        sub = out if loader.filter_per_worker else loader.filter_fn(out)
        b = int(sub.batch_size)
        dst, src, sub_weight = sub.adj_t.coo()  # adj_t[target, source]: messages flow src -> dst
        edge_index = torch.stack([src, dst])
        first_hop = dst < b
        seed_local, nbr_local = dst[first_hop], src[first_hop]
        seed_global, nbr_global = sub.n_id[seed_local], sub.n_id[nbr_local]
        count = self._neighbor_count[seed_global]
        f = self.fanouts[0]
        drawn = count if f < 0 else torch.clamp(count, max=float(f))
        sampled_w = None if self.graph.edge_weight is None else sub_weight[first_hop]
        weight = self._kernel_weight(seed_global, nbr_global, sampled_w) * count / drawn
        op_index, op_weight = self._with_self_loops(torch.stack([seed_local, nbr_local]), weight,
                                                    torch.arange(b), sub.n_id[:b])
        return Batch(
            n_id=sub.n_id, num_seeds=b, x=getattr(sub, "x", None), edge_index=edge_index,
            op_index=op_index, op_weight=op_weight, num_anchors=len(self.anchors),
        )

    def seed_batch(self, seeds: torch.Tensor) -> Batch:
        """The seeds alone: their features, no edges, an empty batch operator."""
        empty = torch.empty(2, 0, dtype=torch.long)
        x = self.graph.x[seeds] if self.with_features else None
        return Batch(n_id=seeds, num_seeds=len(seeds), x=x, edge_index=empty, op_index=empty,
                     op_weight=torch.empty(0), num_anchors=len(self.anchors))

    def _with_self_loops(self, op_index: torch.Tensor, op_weight: torch.Tensor, local: torch.Tensor,
                         global_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the kernel's diagonal K_ii = w_ii / d_i for the seeds when the graph keeps self-loops."""
        if self.graph.self_loop is None:
            return op_index, op_weight
        w = self._kernel_weight(global_ids, global_ids, self.graph.self_loop[global_ids])
        return torch.cat([op_index, torch.stack([local, local])], dim=1), torch.cat([op_weight, w.to(op_weight.dtype)])

    def _kernel_weight(self, i: torch.Tensor, j: torch.Tensor, w_ij: Optional[torch.Tensor]) -> torch.Tensor:
        """K_ij = w_ij / sqrt(d_i d_j) with global degrees (w_ij = 1 when unweighted)."""
        w = self._inv_sqrt_deg[i] * self._inv_sqrt_deg[j]
        return w if w_ij is None else w * w_ij

    def _neighbor_loader(self):
        """One NeighborLoader over all nodes; batches are drawn by calling its collate_fn.

        The loader reads the graph's CSR (``edge_index`` is symmetric and sorted by row, so its
        CSR is the CSC the sampler needs): at 2.4M nodes that takes 0.2 s and no extra memory,
        where building it from ``edge_index`` sorts every edge again (7.6 s, 3.7 GiB).
        """
        if self._loader is None:
            from torch_geometric.data import Data
            from torch_geometric.loader import NeighborLoader
            from torch_sparse import SparseTensor

            from graph_eigen.graph.propagation import csr_pointers

            g = self.graph
            x = g.x if self.with_features else None  # copying features is most of a batch's cost
            adj_t = SparseTensor(rowptr=csr_pointers(g), col=g.edge_index[1], value=g.edge_weight,
                                 sparse_sizes=(g.num_nodes, g.num_nodes), is_sorted=True, trust_data=True)
            with warnings.catch_warnings():  # torch-sparse is a supported backend; pyg-lib is not on PyPI
                warnings.filterwarnings("ignore", message=".*pyg-lib.*")
                self._loader = NeighborLoader(Data(adj_t=adj_t, x=x, num_nodes=g.num_nodes),
                                              num_neighbors=self.fanouts, batch_size=1, shuffle=False,
                                              replace=True)
        return self._loader
