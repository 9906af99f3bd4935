"""BASiS: regress the encoder onto batch eigenvectors aligned to a fixed reference via anchors.

Batch operators (``batch_operator``):

- ``global``: the batch's eigenvectors are the rows of the exact global eigenvectors (one
  eigsh / LOBPCG solve before training). Consistent with the global operator by construction,
  at the cost of one global solve; measured in docs/basis.md (the choice for fixed sparse graphs).
- ``sampled``: the eigenvectors of the sampled subgraph's kernel (global normalization), the
  naive transfer of BASiS to sparse graphs. Inconsistent when the batch is a small fraction
  of the graph (see ``graph-eigen diagnose-batches``).
- ``knn``: a kNN affinity graph rebuilt over the batch's features, BASiS's own setting
  (``knn_kernel``: ``self-tuning`` or the paper's ``basis`` kernel, see ``graph_eigen.data.knn``).

With ``ransac``, the alignment is RANSAC with the original's absolute inlier threshold
(``ransac_threshold``, 0.1 on unit-norm eigenvector columns); see docs/basis.md.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..eigsolve import exact_eigenpairs, top_eigenpairs
from ..errors import ConfigError
from ..graph import Graph
from ..sampling import Batch
from .alignment import apply_affine, fit_affine, fit_affine_ransac

BATCH_OPERATORS = ("global", "sampled", "knn")


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


class BASiS(nn.Module):
    """The BASiS objective: anchors, a reference, aligned batch eigenvectors, MSE regression."""

    def __init__(self, dim: int, anchors: int = 256, anchor_strategy: str = "uniform",
                 batch_operator: str = "global", ransac: bool = False, refresh_every: int = 0,
                 seed: int = 0, ransac_threshold: float = 0.1, knn_kernel: str = "self-tuning") -> None:
        super().__init__()
        from ..data.knn import KNN_KERNELS

        if batch_operator not in BATCH_OPERATORS:
            raise ConfigError(f"unknown batch operator '{batch_operator}'; choose {', '.join(BATCH_OPERATORS)}")
        if not ransac_threshold > 0:
            raise ConfigError(f"--ransac-threshold must be positive, got {ransac_threshold}")
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
        self._sampler = None
        # distributed training (graph_eigen.distributed): ``reduce`` sums over the ranks; every
        # rank's batch holds the anchors, and only where ``count_anchors`` are their rows regressed
        self.reduce = None
        self.count_anchors = True

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

    def setup(self, graph: Graph, sampler) -> None:
        """Compute the reference (once; a resumed run keeps its saved one)."""
        self._graph, self._sampler = graph, sampler
        if self.batch_operator == "global":
            pairs = exact_eigenpairs(graph, self.dim)
            self._global_targets = pairs.vectors * np.sqrt(graph.num_nodes)
            self.reference_eigenvalues.copy_(torch.from_numpy(pairs.values))
        if len(self.reference) == 0:
            self.refresh_reference()

    def refresh_reference(self) -> None:
        """A new reference from a fresh batch, aligned to the old one (a global transform)."""
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
        if self.batch_operator != "global":
            self.reference_eigenvalues.copy_(torch.from_numpy(values).float())

    # ------------------------------------------------------------------ batch eigenvectors
    def batch_eigenvectors(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvectors (scaled to unit mean square) of the batch operator, and L_sym eigenvalues.

        Rows follow the batch's local order; the ``knn`` operator covers the seeds only.
        """
        if self.batch_operator == "global":
            return self._global_targets[batch.n_id.cpu().numpy()], self.reference_eigenvalues.cpu().numpy()
        kernel = self._batch_kernel(batch)
        k = min(self.dim, kernel.shape[0] - 1)
        mu, vecs, _ = top_eigenpairs(kernel, k, seed=self.seed)
        return vecs * np.sqrt(kernel.shape[0]), 1.0 - mu

    def _batch_kernel(self, batch: Batch) -> sp.csr_matrix:
        m = batch.num_nodes
        if self.batch_operator == "knn":
            from ..data.knn import knn_graph
            from ..operators import normalized_adjacency

            from ..data.knn import BASIS_KNN

            options = BASIS_KNN if self.knn_kernel == "basis" else {}
            return normalized_adjacency(knn_graph(batch.x[: batch.num_seeds].cpu().numpy(), **options))
        ids = batch.n_id.cpu().numpy()
        src, dst = batch.edge_index.cpu().numpy()
        inv = 1.0 / np.sqrt(np.maximum(self._graph.degree.numpy()[ids], 1e-12))
        a = sp.csr_matrix((inv[src] * inv[dst], (src, dst)), shape=(m, m))
        return a.maximum(a.T).tocsr()

    def _column_scale(self, phi: np.ndarray) -> float:
        """The factor from unit-norm columns to ``batch_eigenvectors``' scaling (unit mean square)."""
        rows = self._graph.num_nodes if self.batch_operator == "global" else phi.shape[0]
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
        first = 0 if self.count_anchors else batch.num_anchors
        total = (psi[first:b] - y[first:]).pow(2).sum()
        rows = psi.new_tensor(float(b - first))
        if self.reduce is not None:  # the union of the ranks' batches
            total, rows = self.reduce(total), self.reduce(rows)
        loss = total / rows
        self.steps += 1
        return loss, {"loss": float(loss.detach())}

    @torch.no_grad()
    def finalize(self, psi_all: torch.Tensor) -> torch.Tensor:
        return psi_all

    def learned_eigenvalues(self) -> torch.Tensor:
        """The reference's eigenvalues of L_sym (BASiS learns eigenvectors, not eigenvalues)."""
        return self.reference_eigenvalues.cpu().clone()
