"""The `Graph` container that every stage passes on, with input validation and cleaning."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from graph_eigen.errors import InvalidGraphError

SPLIT_NAMES = ("train", "valid", "test")


@dataclass
class Graph:
    """An undirected graph with optional node features, labels and an official split.

    Build it with :meth:`Graph.from_edges`, which validates and cleans the input. After that:
    ``edge_index`` holds both directions of every undirected edge, sorted by (row, col), without
    duplicates or self-loops; ``degree`` holds the GLOBAL (weighted) degrees. ``self_loop``
    (optional, one weight per node) is a diagonal of the adjacency kept apart from the edges:
    it counts in ``degree`` and :meth:`adjacency` (BASiS's kNN kernel keeps w_ii = 1).
    ``label_names`` (optional): the class name of each label id, when the labels were given as
    names (``label_names[y[i]]`` is node i's class).
    """

    edge_index: torch.Tensor
    num_nodes: int
    x: Optional[torch.Tensor] = None
    y: Optional[torch.Tensor] = None
    edge_weight: Optional[torch.Tensor] = None
    split: Optional[dict[str, torch.Tensor]] = None
    name: str = "graph"
    self_loop: Optional[torch.Tensor] = None
    label_names: Optional[tuple[str, ...]] = None
    degree: torch.Tensor = field(init=False)
    num_components: int = field(init=False)
    component: np.ndarray = field(init=False, repr=False)
    largest_component: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        row = self.edge_index[0].numpy()
        w = np.ones(row.shape[0]) if self.edge_weight is None else self.edge_weight.double().numpy()
        degree = np.bincount(row, weights=w, minlength=self.num_nodes)
        if self.self_loop is not None:
            degree = degree + self.self_loop.double().numpy()
        self.degree = torch.from_numpy(degree)
        self.num_components, self.component = connected_components(self.adjacency(), directed=False)
        sizes = np.bincount(self.component)
        self.largest_component = torch.from_numpy(np.flatnonzero(self.component == sizes.argmax()))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(
        cls,
        edge_index,
        num_nodes: Optional[int] = None,
        x=None,
        y=None,
        edge_weight=None,
        split: Optional[dict] = None,
        name: str = "graph",
        self_loop=None,
        label_names=None,
    ) -> "Graph":
        """Validate and clean raw input into a Graph.

        ``edge_index`` is a (2, E) integer array of node ids in ``[0, num_nodes)``; it is
        symmetrized, self-loops are dropped and duplicates merged (weights: the maximum).
        ``x`` must be finite, ``y`` must have one entry per node (``-1`` = unlabeled).
        ``self_loop``: optional non-negative weight per node, kept as the adjacency's diagonal.
        """
        ei = _as_edge_index(edge_index)
        if num_nodes is None:
            if x is not None:
                num_nodes = x.shape[0] if hasattr(x, "shape") else len(x)
            elif ei.shape[1] > 0:
                num_nodes = int(ei.max()) + 1
            else:
                raise InvalidGraphError("empty graph: no edges and no node count given")
        num_nodes = int(num_nodes)
        if num_nodes <= 0:
            raise InvalidGraphError(f"empty graph: num_nodes must be positive, got {num_nodes}")
        if ei.shape[1] > 0:
            lo, hi = int(ei.min()), int(ei.max())
            if lo < 0:
                raise InvalidGraphError(f"edge_index has a negative node id ({lo})")
            if hi >= num_nodes:
                raise InvalidGraphError(
                    f"edge_index refers to node {hi} but the graph has {num_nodes} nodes"
                )
        w = None
        if edge_weight is not None:
            w = np.asarray(edge_weight, dtype=np.float64).reshape(-1)
            if w.shape[0] != ei.shape[1]:
                raise InvalidGraphError(
                    f"edge_weight has {w.shape[0]} entries but edge_index has {ei.shape[1]} edges"
                )
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise InvalidGraphError("edge_weight must be finite and non-negative")
        clean_ei, clean_w = _symmetrize(ei, w, num_nodes)
        if clean_ei.shape[1] == 0:
            raise InvalidGraphError("empty graph: no edges left after removing self-loops")
        return cls(
            edge_index=torch.from_numpy(clean_ei),
            num_nodes=num_nodes,
            x=_check_features(x, num_nodes),
            y=_check_labels(y, num_nodes),
            edge_weight=None if clean_w is None else torch.from_numpy(clean_w.astype(np.float32)),
            split=_check_split(split, num_nodes),
            name=name,
            self_loop=_check_self_loop(self_loop, num_nodes),
            label_names=None if label_names is None else tuple(str(s) for s in label_names),
        )

    @classmethod
    def from_symmetric_adjacency(cls, adjacency: sp.spmatrix, like: "Graph") -> "Graph":
        """A Graph with ``like``'s nodes, features, labels, split, name and self-loops and the
        edges of ``adjacency``, a symmetric sparse matrix with non-negative weights (its diagonal
        is dropped). No edge-list round trip: at 2.45M nodes and 100M entries,
        :meth:`from_edges` would symmetrize and sort twice the entries again (several GiB)."""
        a = sp.csr_matrix(adjacency, dtype=np.float32)
        n = like.num_nodes
        if a.shape != (n, n):
            raise InvalidGraphError(f"the adjacency is {a.shape} but the graph has {n} nodes")
        if a.diagonal().any():
            a = (a - sp.diags(a.diagonal())).tocsr()
        a.eliminate_zeros()
        a.sort_indices()
        if a.nnz == 0:
            raise InvalidGraphError("empty graph: no edges left after removing self-loops")
        if not np.all(np.isfinite(a.data)) or a.data.min() < 0:
            raise InvalidGraphError("edge weights must be finite and non-negative")
        row = np.repeat(np.arange(n, dtype=np.int64), np.diff(a.indptr))
        edge_index = torch.from_numpy(np.vstack([row, a.indices.astype(np.int64)]))
        return cls(edge_index=edge_index, num_nodes=n, x=like.x, y=like.y, edge_weight=torch.from_numpy(a.data),
                   split=like.split, name=like.name, self_loop=like.self_loop,
                   label_names=like.label_names)

    # ------------------------------------------------------------------ views
    @property
    def num_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.edge_index.shape[1]) // 2

    @property
    def num_features(self) -> int:
        return 0 if self.x is None else int(self.x.shape[1])

    @property
    def num_classes(self) -> int:
        if self.y is None:
            return 0
        return int(self.y.max()) + 1 if (self.y >= 0).any() else 0

    def adjacency(self) -> sp.csr_matrix:
        """The symmetric (weighted) adjacency matrix as scipy CSR, float64."""
        ei = self.edge_index.numpy()
        w = np.ones(ei.shape[1]) if self.edge_weight is None else self.edge_weight.double().numpy()
        a = sp.csr_matrix((w, (ei[0], ei[1])), shape=(self.num_nodes, self.num_nodes))
        if self.self_loop is not None:
            a = (a + sp.diags(self.self_loop.double().numpy())).tocsr()
        return a

    def subgraph(self, nodes) -> "Graph":
        """The subgraph induced by ``nodes`` (renumbered 0..len-1 in the given order)."""
        nodes = torch.as_tensor(nodes, dtype=torch.long)
        mapping = torch.full((self.num_nodes,), -1, dtype=torch.long)
        mapping[nodes] = torch.arange(len(nodes))
        src, dst = mapping[self.edge_index[0]], mapping[self.edge_index[1]]
        keep = (src >= 0) & (dst >= 0)
        return Graph.from_edges(
            torch.stack([src[keep], dst[keep]]),
            num_nodes=len(nodes),
            x=None if self.x is None else self.x[nodes],
            y=None if self.y is None else self.y[nodes],
            edge_weight=None if self.edge_weight is None else self.edge_weight[keep],
            name=f"{self.name}[subgraph]",
            self_loop=None if self.self_loop is None else self.self_loop[nodes],
            label_names=self.label_names,
        )

    def summary(self) -> dict:
        """The facts `graph-eigen info` prints."""
        return {
            "name": self.name,
            "nodes": self.num_nodes,
            "edges": self.num_edges,
            "features": self.num_features,
            "classes": self.num_classes,
            "components": int(self.num_components),
            "largest_component_nodes": int(len(self.largest_component)),
            "weighted": self.edge_weight is not None,
            "self_loops": self.self_loop is not None,
            "split": None if self.split is None else {k: int(len(v)) for k, v in self.split.items()},
        }


# ---------------------------------------------------------------------- validation helpers
def _as_edge_index(edge_index) -> np.ndarray:
    if isinstance(edge_index, torch.Tensor):
        if edge_index.is_floating_point() or edge_index.dtype == torch.bool:
            raise InvalidGraphError(f"edge_index must hold integers, got dtype {edge_index.dtype}")
        ei = edge_index.detach().cpu().numpy()
    else:
        ei = np.asarray(edge_index)
        if ei.size and not np.issubdtype(ei.dtype, np.integer):
            raise InvalidGraphError(f"edge_index must hold integers, got dtype {ei.dtype}")
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise InvalidGraphError(f"edge_index must have shape (2, E), got {tuple(ei.shape)}")
    return ei.astype(np.int64, copy=False)


def _symmetrize(ei: np.ndarray, w: Optional[np.ndarray], n: int):
    """Both directions, no self-loops, duplicates merged (max weight), sorted by (row, col)."""
    keep = ei[0] != ei[1]
    row, col = ei[0][keep], ei[1][keep]
    data = np.ones(row.shape[0], dtype=np.float32) if w is None else w[keep]
    a = sp.coo_matrix((data, (row, col)), shape=(n, n)).tocsr()
    if w is None:
        a.data[:] = 1.0  # duplicates were summed; an unweighted graph keeps weight 1
    a = a.maximum(a.T).tocsr()
    a.eliminate_zeros()
    a.sort_indices()
    coo = a.tocoo()
    out = np.vstack([coo.row.astype(np.int64), coo.col.astype(np.int64)])
    return out, (None if w is None else coo.data.astype(np.float64))


def _check_self_loop(w, n: int) -> Optional[torch.Tensor]:
    if w is None:
        return None
    w = np.asarray(w.detach().cpu().numpy() if isinstance(w, torch.Tensor) else w, dtype=np.float64)
    if w.shape != (n,):
        raise InvalidGraphError(f"self_loop must hold one weight per node, shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidGraphError("self_loop weights must be finite and non-negative")
    return torch.from_numpy(w.astype(np.float32))


MAX_FEATURE = 1e15  # larger magnitudes overflow float32 sums of squares in training


def _check_features(x, n: int) -> Optional[torch.Tensor]:
    """Features as an (n, F) float32 tensor: dense or scipy sparse input, numbers only, finite in
    float32 and of a magnitude training can square and sum."""
    if x is None:
        return None
    if sp.issparse(x):
        x = x.toarray()
    if not isinstance(x, torch.Tensor):
        array = np.asarray(x)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidGraphError(f"features must be numbers, got an array of {array.dtype} "
                                        f"({str(exc).splitlines()[0]})") from None
        x = torch.as_tensor(array)
    if x.dim() != 2 or x.shape[0] != n:
        raise InvalidGraphError(f"features must have shape ({n}, F), got {tuple(x.shape)}")
    finite = torch.isfinite(x).all(dim=1) if x.is_floating_point() else torch.ones(n, dtype=torch.bool)
    if not finite.all():
        rows = torch.nonzero(~finite).ravel()
        raise InvalidGraphError(f"features contain NaN or infinite values in {rows.numel()} rows "
                                f"(first: row {int(rows[0])})")
    largest = float(x.abs().max()) if x.numel() else 0.0
    if largest > MAX_FEATURE:
        row = int(torch.nonzero(x.abs().amax(dim=1) > MAX_FEATURE)[0])
        raise InvalidGraphError(f"features reach {largest:.3g} in magnitude (first in row {row}): beyond "
                                f"{MAX_FEATURE:.0e}, float32 training overflows; rescale them (for example, "
                                f"standardize each column)")
    return x.float()


def _check_labels(y, n: int) -> Optional[torch.Tensor]:
    if y is None:
        return None
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dim() != 1 or y.shape[0] != n:
        raise InvalidGraphError(f"labels must have shape ({n},), got {tuple(y.shape)}")
    if y.is_floating_point():
        if not torch.isfinite(y).all() or (y != y.round()).any():
            raise InvalidGraphError("labels must be integer class ids (-1 for unlabeled)")
    y = y.long()
    if y.numel() and int(y.max()) >= max(n, 2):  # a class per node at most: larger ids are not class ids
        raise InvalidGraphError(f"labels must be class ids 0..C-1 (-1 for unlabeled) with C at most the "
                                f"number of nodes ({n}); the largest is {int(y.max())}: map them to 0..C-1")
    if y.numel() and int(y.min()) < -1:
        raise InvalidGraphError(f"labels must be class ids 0..C-1 or -1 (unlabeled), got {int(y.min())}")
    return y


def _check_split(split: Optional[dict], n: int) -> Optional[dict[str, torch.Tensor]]:
    if split is None:
        return None
    out = {}
    for key, idx in split.items():
        idx = torch.as_tensor(np.asarray(idx) if not isinstance(idx, torch.Tensor) else idx)
        if idx.dtype == torch.bool:
            idx = idx.nonzero().view(-1)
        idx = idx.long().view(-1)
        if len(idx) and (idx.min() < 0 or idx.max() >= n):
            raise InvalidGraphError(f"split '{key}' has node ids outside [0, {n})")
        out[key] = idx
    return out
