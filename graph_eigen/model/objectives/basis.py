"""BASiS: regress the encoder onto batch eigenvectors aligned to a fixed reference via anchors.

Batch operators (``batch_operator``):

- ``global``: the batch's eigenvectors are the rows of the exact global eigenvectors (one
  eigsh / LOBPCG solve before training). Consistent with the global operator by construction,
  at the cost of one global solve; measured in docs/basis.md (the choice for fixed sparse graphs).
- ``feature_span``: the rows of the whole graph's eigenmap restricted to the span of the
  encoder's input features (feature_span.py: Rayleigh-Ritz, one sparse product and a small
  eigenproblem). Consistent like ``global``, far cheaper, and it keeps to functions of the
  features, which on large graphs probe far better than the exact eigenvectors (docs/large_graphs.md).
- ``sampled``: the eigenvectors of the sampled subgraph's kernel (global normalization, the
  operator's edge weights and self-loops), the
  naive transfer of BASiS to sparse graphs. Inconsistent when the batch is a small fraction
  of the graph (see ``graph-eigen diagnose-batches``).
- ``knn``: a kNN affinity graph rebuilt over the batch's features, BASiS's own setting
  (``knn_kernel``: ``self-tuning`` or the paper's ``basis`` kernel, see ``graph_eigen.graph.knn``).

With ``ransac``, the alignment is RANSAC with the original's absolute inlier threshold
(``ransac_threshold``, 0.1 on unit-norm eigenvector columns); see docs/basis.md.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.sampling import Batch
from graph_eigen.model.objectives.alignment import apply_affine, fit_affine, fit_affine_ransac
from graph_eigen.model.objectives.base import Objective, ObjectiveContext
from graph_eigen.spectral.eigsolve import exact_eigenpairs, top_eigenpairs

BATCH_OPERATORS = ("global", "feature_span", "sampled", "knn")
WHOLE_GRAPH = ("global", "feature_span")  # operators whose targets are rows of one whole-graph solve


def choose_anchors(graph: Graph, count: int, strategy: str = "uniform", seed: int = 0) -> torch.Tensor:
    """Label-free anchors: uniform with a fixed seed, or stratified by degree."""
    n = graph.num_nodes
    if count <= 0 or count >= n:
        raise ConfigError(f"anchor count must lie in [1, {n - 1}], got {count}")
    rng = np.random.default_rng(seed)
    if strategy == "uniform":
        nodes = rng.choice(n, size=count, replace=False)
    elif strategy == "degree":
        order = np.argsort(graph.degree.numpy(), kind="stable")
        strata = np.array_split(order, count)
        nodes = np.array([rng.choice(s) for s in strata])
    else:
        raise ConfigError(f"unknown anchor strategy '{strategy}'; choose uniform or degree")
    return torch.from_numpy(np.sort(nodes)).long()


class BASiS(Objective):
    """The BASiS objective: anchors, a reference, aligned batch eigenvectors, MSE regression."""

    def __init__(self, dim: int, anchors: int = 256, anchor_strategy: str = "uniform",
                 batch_operator: str = "global", ransac: bool = False, refresh_every: int = 0,
                 seed: int = 0, ransac_threshold: float = 0.1, knn_kernel: str = "self-tuning") -> None:
        super().__init__()
        from graph_eigen.graph.knn import KNN_KERNELS

        if batch_operator not in BATCH_OPERATORS:
            raise ConfigError(f"unknown batch operator '{batch_operator}'; choose {', '.join(BATCH_OPERATORS)}")
        if not ransac_threshold > 0:
            raise ConfigError(f"`ransac_threshold` must be positive, got {ransac_threshold}")
        if knn_kernel not in KNN_KERNELS:
            raise ConfigError(f"unknown kNN kernel '{knn_kernel}'; choose {' or '.join(KNN_KERNELS)}")
        self.dim, self.num_anchors, self.strategy = dim, anchors, anchor_strategy
        self.batch_operator, self.ransac, self.refresh_every, self.seed = batch_operator, ransac, refresh_every, seed
        self.ransac_threshold, self.knn_kernel = ransac_threshold, knn_kernel
        self.register_buffer("anchors", torch.empty(0, dtype=torch.long))
        self.register_buffer("reference", torch.empty(0, dim))
        # sqrt(rows) of the batch the reference came from: its columns' scale from unit norm
        self.register_buffer("reference_scale", torch.zeros(1))
        self.register_buffer("reference_eigenvalues", torch.zeros(dim))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self._global_targets = None
        self._graph = None
        self._adjacency = None  # the sampled operator's weights, read once
        self._sampler = None

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Anchors and reference are sized by set-up: take their shapes from the checkpoint."""
        for name in ("anchors", "reference"):
            if name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[name]))
        if "reference" in state_dict and "reference_scale" not in state_dict:  # saved before 2026-12-05
            state_dict = {**state_dict, "reference_scale": torch.zeros(1)}
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    # ------------------------------------------------------------------ set-up
    @property
    def needs_neighbors(self) -> bool:
        """Only the ``sampled`` operator reads the batch's sampled edges."""
        return self.batch_operator == "sampled"

    def anchor_nodes(self, graph: Graph) -> torch.Tensor:
        if len(self.anchors) == 0:
            self.anchors = choose_anchors(graph, self.num_anchors, self.strategy, self.seed)
        return self.anchors

    def setup(self, graph: Graph, sampler, context: Optional[ObjectiveContext] = None) -> None:
        """Compute the reference (once; a resumed run keeps its saved one).

        With several processes the leader alone solves and draws the reference (from the
        context's ``union_sampler``); the others receive them."""
        super().setup(graph, sampler, context)
        context = self.context
        if context.union_sampler is not None:  # the reference is drawn from the union batches
            sampler = context.union_sampler()
        if not context.leader:
            self.attach(graph, sampler)
        else:
            if self.batch_operator in WHOLE_GRAPH:
                values, vectors = self.whole_graph_solve(graph)
                self.attach(graph, sampler, vectors)
                self.reference_eigenvalues.copy_(torch.from_numpy(values))
            else:
                self.attach(graph, sampler)
            if len(self.reference) == 0:
                self._draw_reference()
        if context.distributed:
            if self.batch_operator in WHOLE_GRAPH:
                sent = context.broadcast(torch.from_numpy(self._global_targets) if context.leader else None)
                self._global_targets = sent.numpy()
            self._share_reference()

    def whole_graph_solve(self, graph: Graph) -> tuple[np.ndarray, np.ndarray]:
        """L_sym eigenvalues and unit-norm eigenvectors (n x dim) that the targets are rows of."""
        if self.batch_operator == "global":
            pairs = exact_eigenpairs(graph, self.dim)
            return pairs.values, pairs.vectors
        if graph.x is None:
            raise ConfigError("the `feature_span` batch operator needs node features")
        from graph_eigen.graph.operators import normalized_adjacency
        from graph_eigen.spectral.feature_span import feature_span_eigenpairs

        pairs = feature_span_eigenpairs(normalized_adjacency(graph), graph.x.numpy(), self.dim)
        return pairs.values, pairs.vectors

    def attach(self, graph: Graph, sampler, global_vectors: Optional[np.ndarray] = None) -> None:
        """What :meth:`batch_eigenvectors` reads, without a solve or a reference: the graph, the
        sampler, and for the ``global`` operator the exact eigenvectors (unit-norm columns)."""
        self._graph, self._sampler = graph, sampler
        if global_vectors is not None:
            self._global_targets = global_vectors * np.sqrt(graph.num_nodes)

    def whole_graph_targets(self) -> np.ndarray:
        """The rows every batch's targets are taken from (n x K, unit mean square columns), for
        the ``global`` and ``feature_span`` operators, once :meth:`prepare` has run."""
        if self._global_targets is None:
            raise ConfigError(f"the `{self.batch_operator}` batch operator has no whole-graph targets")
        return self._global_targets

    def release(self) -> None:
        """The graph, the sampler and the whole-graph targets (n x K) are for training only: at
        2.45M nodes they hold the encoder's propagated input, 2.9 GB, through export."""
        self._graph = self._sampler = self._global_targets = self._adjacency = None

    def refresh_reference(self) -> None:
        """A new reference from a fresh batch, aligned to the old one (a global transform);
        drawn by the leader and shared with the other processes."""
        if self.context.leader:
            self._draw_reference()
        if self.context.distributed:
            self._share_reference()

    def _share_reference(self) -> None:
        """The leader's reference, its eigenvalues and scale on every process."""
        leader, broadcast = self.context.leader, self.context.broadcast
        self.reference = broadcast(self.reference if leader else None)
        self.reference_eigenvalues.copy_(broadcast(self.reference_eigenvalues if leader else None))
        self.reference_scale.copy_(broadcast(self.reference_scale if leader else None))

    def _draw_reference(self) -> None:
        gen = torch.Generator().manual_seed(self.seed + int(self.steps))
        pool = self._sampler.pool
        extra = pool[torch.randperm(len(pool), generator=gen)[: max(self._sampler.batch_size, 1)]]
        batch = self._sampler.sample(extra) if self._sampler.batch_size else self._sampler.full_batch()
        phi, values = self.batch_eigenvectors(batch)
        anchor_rows = self._anchor_rows(batch)
        new_ref = phi[anchor_rows]
        if len(self.reference):
            new_ref = apply_affine(fit_affine(new_ref, self.reference.cpu().numpy()), new_ref)
        self.reference = torch.from_numpy(new_ref).float().to(self.reference.device)
        self.reference_scale.fill_(self._column_scale(phi))
        if self.batch_operator not in WHOLE_GRAPH:
            self.reference_eigenvalues.copy_(torch.from_numpy(values).float())

    # ------------------------------------------------------------------ batch eigenvectors
    def batch_eigenvectors(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvectors (scaled to unit mean square) of the batch operator, and L_sym eigenvalues.

        Rows follow the batch's local order; the ``knn`` operator covers the seeds only.
        """
        if self.batch_operator in WHOLE_GRAPH:
            return self._global_targets[batch.n_id.cpu().numpy()], self.reference_eigenvalues.cpu().numpy()
        kernel = self._batch_kernel(batch)
        k = min(self.dim, kernel.shape[0] - 1)
        mu, vecs, _ = top_eigenpairs(kernel, k, seed=self.seed)
        return vecs * np.sqrt(kernel.shape[0]), 1.0 - mu

    def _batch_kernel(self, batch: Batch) -> sp.csr_matrix:
        m = batch.num_nodes
        if self.batch_operator == "knn":
            from graph_eigen.graph.knn import knn_graph
            from graph_eigen.graph.operators import normalized_adjacency

            from graph_eigen.graph.knn import BASIS_KNN

            options = BASIS_KNN if self.knn_kernel == "basis" else {}
            return normalized_adjacency(knn_graph(batch.x[: batch.num_seeds].cpu().numpy(), **options))
        ids = batch.n_id.cpu().numpy()
        src, dst = batch.edge_index.cpu().numpy()
        if self._adjacency is None:  # the operator's weights, self-loops apart (the sampler drops them)
            self._adjacency = self._graph.adjacency()
            self._adjacency.setdiag(0)
        weight = np.asarray(self._adjacency[ids[src], ids[dst]]).ravel()
        inv = 1.0 / np.sqrt(np.maximum(self._graph.degree.numpy()[ids], 1e-12))
        a = sp.csr_matrix((weight * inv[src] * inv[dst], (src, dst)), shape=(m, m))
        a = a.maximum(a.T)
        if self._graph.self_loop is not None:  # D^-1/2 (A + diag(s)) D^-1/2 on the batch
            a = a + sp.diags(self._graph.self_loop.double().numpy()[ids] * inv ** 2)
        return a.tocsr()

    def _column_scale(self, phi: np.ndarray) -> float:
        """The factor from unit-norm columns to ``batch_eigenvectors``' scaling (unit mean square)."""
        rows = self._graph.num_nodes if self.batch_operator in WHOLE_GRAPH else phi.shape[0]
        return float(np.sqrt(rows))

    def _anchor_rows(self, batch: Batch) -> np.ndarray:
        return np.arange(batch.num_anchors)

    # ------------------------------------------------------------------ loss
    def targets(self, batch: Batch) -> np.ndarray:
        """Aligned targets for every batch node."""
        phi, _ = self.batch_eigenvectors(batch)
        anchors = phi[self._anchor_rows(batch)]
        ref = self.reference.cpu().numpy().astype(np.float64)
        if self.ransac:
            scale = float(self.reference_scale[0]) or self._column_scale(phi)
            t = fit_affine_ransac(anchors, ref, threshold=self.ransac_threshold, seed=self.seed + int(self.steps),
                                  column_scale=scale)
        else:
            t = fit_affine(anchors, ref)
        return apply_affine(t, phi)

    def loss(self, batch: Batch, psi: torch.Tensor) -> tuple[torch.Tensor, dict]:
        if self.refresh_every and int(self.steps) and int(self.steps) % self.refresh_every == 0:
            self.refresh_reference()
        b = batch.num_seeds
        y = torch.from_numpy(self.targets(batch)[:b]).float().to(psi.device)
        first = 0 if self.context.count_anchors else batch.num_anchors
        total = (psi[first:b] - y[first:]).pow(2).sum()
        rows = psi.new_tensor(float(b - first))
        total, rows = self.context.reduce(total), self.context.reduce(rows)  # the union of the ranks' batches
        loss = total / rows
        self.steps += 1
        return loss, {"loss": float(loss.detach())}

    def learned_eigenvalues(self) -> torch.Tensor:
        """The reference's eigenvalues of L_sym (BASiS learns eigenvectors, not eigenvalues)."""
        return self.reference_eigenvalues.cpu().clone()
