"""New nodes embedded in time proportional to their number: the training graph's state is kept.

A full ``transform`` rebuilds the operator of the enlarged graph (its kNN graphs searched among
all nodes, every degree and every propagated feature recomputed) and embeds every node: its rows
equal a fresh export, at the cost of the whole graph. :class:`NewNodeExtension` keeps instead what
the new nodes' rows read from the old (training) nodes, computed once:

- the features the kNN graphs are searched in, projected as at training, in a faiss index;
- the operator's degrees and the ``sign`` encoder's propagated features of the old nodes.

A batch of new nodes then costs one kNN search of the new rows (among old and new nodes), their
operator rows (graph edges + kNN edges) and ``hops`` sparse products restricted to them. The old
nodes do not move: their degrees, kNN lists and propagated features stay as at training, so a new
node's row is the full transform's up to the small changes its arrival would make to its old
neighbors (measured in ``benchmarks/inductive.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch

from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.directions import project, sparse_if_mostly_zeros
from graph_eigen.graph.knn import PROPAGATION_HOPS, FeatureSpace, feature_spaces
from graph_eigen.graph.neighbors import cosine_index, unit_rows
from graph_eigen.model.build import Model


@dataclass
class SearchSpace:
    """Old nodes' features as one kNN graph searches them: projected, unit rows, in an index."""

    projection: Optional[np.ndarray]  # F x dims, or None when the features are narrow enough
    index: object  # faiss index over the old rows
    blank: np.ndarray  # old rows with all-zero features (never anybody's neighbor)

    @classmethod
    def of(cls, space: FeatureSpace, seed: int = 0) -> "SearchSpace":
        """The space whose old rows the operator's kNN graph was searched in (knn.feature_spaces)."""
        rows = unit_rows(space.rows)
        return cls(space.projection, cosine_index(rows, seed), ~np.any(rows != 0, axis=1))

    def project(self, features: np.ndarray) -> np.ndarray:
        """``features`` on the space's projection (unchanged without one)."""
        return project(features, self.projection)

    def neighbors(self, new_rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the new rows' kNN edges among the old rows (ids < n_old) and the new ones
        (ids n_old + j): each new row's k most cosine-similar others, blank rows joined to nobody.
        ``new_rows``: the new nodes' features, already :meth:`project`-ed."""
        rows = unit_rows(new_rows)
        n_old, m = self.blank.size, rows.shape[0]
        sim_old, idx_old = self.index.search(rows, k)
        sim_old[(idx_old < 0) | self.blank[np.maximum(idx_old, 0)]] = -np.inf
        new_blank = ~np.any(rows != 0, axis=1)
        if m > 1:  # among the new rows themselves: one more, as each finds itself
            # an IVF index of the old rows lends its trained lists: no k-means over the new rows
            among_new = cosine_index(rows, quantizer=getattr(self.index, "quantizer", None))
            sim_new, idx_new = among_new.search(rows, min(k + 1, m))
            invalid = (idx_new < 0) | (idx_new == np.arange(m)[:, None]) | new_blank[np.maximum(idx_new, 0)]
            sim_new[invalid] = -np.inf
        else:
            sim_new, idx_new = np.zeros((m, 0), np.float32), np.zeros((m, 0), np.int64)
        sims = np.concatenate([sim_old, sim_new], axis=1)
        ids = np.concatenate([idx_old, n_old + idx_new], axis=1)
        best = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        cols = np.take_along_axis(ids, best, axis=1)
        keep = np.isfinite(np.take_along_axis(sims, best, axis=1)) & ~new_blank[:, None]
        return np.repeat(np.arange(m), k)[keep.ravel()], cols[keep]


def _hat_rows(rows: sp.csr_matrix, num_old: int, scaled_old: np.ndarray, own: np.ndarray,
              own_scale: np.ndarray) -> np.ndarray:
    """GCN-normalized rows: s_i (sum_j W_ij s_j v_j + s_i v_i) for the new rows of ``rows`` (W,
    columns: old nodes, then new ones). ``scaled_old``: s_j v_j of the old nodes, kept from
    training, so a call costs the new rows' entries, not the old nodes' count."""
    scaled_own = own_scale[:, None] * own
    return own_scale[:, None] * (rows[:, :num_old] @ scaled_old + rows[:, num_old:] @ scaled_own + scaled_own)


def _scaled(degree: np.ndarray, values: np.ndarray) -> np.ndarray:
    """s_j v_j with s_j = 1 / sqrt(degree_j + 1) (GCN's normalization with self-loops)."""
    return (values / np.sqrt(degree + 1.0)[:, None]).astype(np.float32)


class NewNodeExtension:
    """Embeds new nodes joined to the training graph, reading the old nodes' state kept here."""

    def __init__(self, cfg: TrainConfig, model: Model, old_graph: Graph) -> None:
        from graph_eigen.graph.propagation import propagate
        from graph_eigen.runs.inputs import run_operator

        encoder = model.encoder
        if not hasattr(encoder, "apply_rows"):
            raise ConfigError(f"the `{cfg.encoder}` encoder cannot embed new nodes incrementally; "
                              f"use transform(graph, nodes=...) without incremental=True")
        if old_graph.x is None:
            raise ConfigError("incremental new-node embedding needs node features")
        self.cfg, self.model, self.num_old = cfg, model, old_graph.num_nodes
        self.width = old_graph.x.shape[1]
        self.graph_degree = old_graph.degree.numpy()
        # the old graph's operator as training built it, from the same projected rows as the indexes
        found = feature_spaces(old_graph, cfg.feature_knn_source) if cfg.feature_knn else {}
        operator = run_operator(cfg, old_graph, spaces=found)
        self.spaces = {name: SearchSpace.of(space) for name, space in found.items()}
        if "propagated" in self.spaces:  # what a new node's hops read of the old nodes, projected
            hops = propagate(old_graph, old_graph.x, PROPAGATION_HOPS - 1)
            self.graph_hops = [_scaled(self.graph_degree, self.spaces["propagated"].project(h.numpy())) for h in hops]
        self.operator_degree = operator.degree.numpy()
        prepared = encoder.prepare(operator)
        width = prepared.x.shape[1] // (getattr(encoder, "hops", 0) + 1)
        self.encoder_hops = [_scaled(self.operator_degree, prepared.x[:, h * width:(h + 1) * width].numpy())
                             for h in range(getattr(encoder, "hops", 0))]  # the last hop is read by nobody

    def embed(self, graph: Graph, new: np.ndarray) -> np.ndarray:
        """Rows of ``new`` (ids in ``graph``, whose other nodes are the training graph's, in order)."""
        n = graph.num_nodes
        if graph.x is None or graph.x.shape[1] != self.width:
            raise ConfigError(f"the new graph must have the training graph's {self.width} features per node, "
                              f"got {0 if graph.x is None else graph.x.shape[1]}")
        old = np.setdiff1d(np.arange(n), new)
        if old.size != self.num_old:
            raise ConfigError(f"the graph holds {old.size} nodes besides the {new.size} new ones, but the "
                              f"model was trained on {self.num_old}: the other nodes must be the training graph's")
        edges = self._new_rows(graph, old, new)  # columns: old ids 0..n_old-1, new ones after; no self-loops
        self_loop = np.zeros(new.size, np.float32) if graph.self_loop is None else graph.self_loop.numpy()[new]
        x_new = sparse_if_mostly_zeros(graph.x[torch.from_numpy(new)].numpy())  # projected up to three times
        operator = edges
        k, weight = self.cfg.feature_knn, self.cfg.feature_knn_weight
        if "raw" in self.spaces:
            space = self.spaces["raw"]
            operator = operator + weight * self._knn_rows(space.neighbors(space.project(x_new), k), new.size)
        if "propagated" in self.spaces:  # the graph alone: hops of the new rows over frozen old rows
            space = self.spaces["propagated"]
            own_scale = 1.0 / np.sqrt(np.asarray(edges.sum(axis=1)).ravel() + self_loop + 1.0)
            current = space.project(x_new)
            for scaled_old in self.graph_hops:
                current = _hat_rows(edges, self.num_old, scaled_old, current, own_scale)
            operator = operator + weight * self._knn_rows(space.neighbors(current, k), new.size)
        operator = sp.csr_matrix(operator)
        own_scale = 1.0 / np.sqrt(np.asarray(operator.sum(axis=1)).ravel() + self_loop + 1.0)
        encoder = self.model.encoder
        projection = getattr(encoder, "projection", None)
        current = project(x_new, None if projection is None else projection.cpu().numpy())
        parts = [current]
        for scaled_old in self.encoder_hops:
            current = _hat_rows(operator, self.num_old, scaled_old, current, own_scale)
            parts.append(current)
        encoder.eval()
        self.model.objective.eval()
        with torch.no_grad():
            rows = torch.from_numpy(np.concatenate(parts, axis=1).astype(np.float32)).to(encoder.device)
            psi = encoder.apply_rows(rows).cpu()
            return self.model.objective.finalize(psi).numpy().astype(np.float32)

    def _new_rows(self, graph: Graph, old: np.ndarray, new: np.ndarray) -> sp.csr_matrix:
        """The new nodes' rows of ``graph``'s adjacency (self-loops apart), columns renumbered: old
        nodes 0..n_old-1 in order, then the new ones; read from the edge list, not the whole matrix."""
        src, dst = graph.edge_index.numpy()
        position = np.empty(graph.num_nodes, np.int64)
        position[old], position[new] = np.arange(old.size), self.num_old + np.arange(new.size)
        mine = position[src] >= self.num_old
        weight = (np.ones(int(mine.sum()), np.float32) if graph.edge_weight is None
                  else graph.edge_weight.numpy()[mine].astype(np.float32))
        return sp.csr_matrix((weight, (position[src[mine]] - self.num_old, position[dst[mine]])),
                             shape=(new.size, graph.num_nodes))

    def _knn_rows(self, edges: tuple[np.ndarray, np.ndarray], m: int) -> sp.csr_matrix:
        """The new rows of the symmetric 0/1 kNN adjacency (columns: old ids, then new ones): a new
        node's own choices, and the new nodes that chose it (old nodes' lists stay as they were)."""
        rows, cols = edges
        n = self.num_old + m
        chosen = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(m, n))
        among_new = cols >= self.num_old
        chose_me = sp.csr_matrix((np.ones(int(among_new.sum()), np.float32),
                                  (cols[among_new] - self.num_old, self.num_old + rows[among_new])), shape=(m, n))
        return (chosen + chose_me).sign()
