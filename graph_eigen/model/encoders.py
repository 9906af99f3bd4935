"""Encoders mapping a batch to psi in R^k: a per-node table, MLPs on features, an MLP on
features propagated once over the graph (``sign``), and GNNs."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import nn

from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.graph.directions import feature_directions, project
from graph_eigen.graph.sampling import Batch

ENCODERS = ("table", "mlp", "resmlp", "sign", "sage", "gcn")


@dataclass
class EncoderConfig:
    name: str = "sage"
    hidden: int = 256
    layers: int = 2
    norm: str = "none"  # none | batch_norm | layer_norm
    dropout: float = 0.0
    input_dim: int = 0  # > 0: project wider features to this many dimensions (truncated SVD, fixed)
    hops: int = 2  # sign: propagation hops of the features (A_hat^0 .. A_hat^hops X)


class Encoder(nn.Module):
    """Common interface: ``forward(batch)`` gives psi for every batch node; ``embed_all(graph)``."""

    inductive = True
    reads_features = True
    reads_neighbors = False  # True: forward() needs the sampled neighborhood of the seeds

    def embed_all(self, graph: Graph, chunk: int = 65536, progress: bool = False) -> torch.Tensor:
        """psi for every node of ``graph`` (deterministic; eval mode), on the CPU."""
        raise NotImplementedError

    def embed_shard(self, graph: Graph, lo: int, hi: int, gather_rows: Callable[[torch.Tensor], torch.Tensor],
                    progress: bool = False) -> Optional[torch.Tensor]:
        """psi for every node of ``graph``, computed by several processes together: this one
        computes nodes ``[lo, hi)`` and ``gather_rows`` (an all-gather of row blocks in process
        order) joins the parts. None when the encoder has no sharded path (then one process
        embeds every node with :meth:`embed_all`)."""
        return None

    @property
    def device(self) -> torch.device:
        """Where the parameters live (inputs are moved there, outputs come back to the CPU)."""
        return next(self.parameters()).device

    def prepare(self, graph: Graph) -> Graph:
        """The graph as the encoder reads it: features projected when a projection is set."""
        projection = getattr(self, "projection", None)
        if projection is None or graph.x is None or graph.x.shape[1] == projection.shape[1]:
            return graph
        if graph.x.shape[1] != projection.shape[0]:
            raise ConfigError(f"the model was trained on {projection.shape[0]} features, "
                              f"dataset '{graph.name}' has {graph.x.shape[1]}")
        projected = copy.copy(graph)
        projected.x = torch.from_numpy(project(graph.x.cpu().numpy(), projection.cpu().numpy()))
        return projected

    def set_projection(self, graph: Graph, dim: int) -> int:
        """Fix the projection of the features on their top ``dim`` singular directions (none when
        they are no wider); returns the input width to use."""
        if dim <= 0 or graph.x is None or graph.num_features <= dim:
            self.projection = None
            return graph.num_features
        projection = feature_directions(graph.x, dim)  # the operator's kNN search computed them already
        self.register_buffer("projection", torch.from_numpy(projection.copy()))
        return dim


class TableEncoder(Encoder):
    """A free vector per node: transductive, the sanity check of an objective."""

    inductive = False
    reads_features = False
    sparse = True  # only the batch's rows get a gradient (use a sparse optimizer)

    def __init__(self, num_nodes: int, dim: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.rows = nn.Embedding(num_nodes, dim, sparse=True)
        with torch.no_grad():
            self.rows.weight.copy_(torch.randn(num_nodes, dim, generator=gen) / dim ** 0.5)

    @property
    def table(self) -> torch.Tensor:
        return self.rows.weight

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.rows(batch.n_id)

    def embed_all(self, graph: Graph, chunk: int = 65536, progress: bool = False) -> torch.Tensor:
        if graph.num_nodes != self.table.shape[0]:
            raise ConfigError(
                f"the table encoder is transductive: trained on {self.table.shape[0]} nodes, "
                f"cannot embed a graph of {graph.num_nodes}; use an mlp or GNN encoder for new nodes"
            )
        return self.table.detach().cpu().clone()


class FeatureMLP(Encoder):
    """An MLP (optionally residual) on node features."""

    def __init__(self, graph: Graph, dim: int, cfg: EncoderConfig, residual: bool = False, copies: int = 1) -> None:
        super().__init__()
        in_dim = self.set_projection(graph, cfg.input_dim) * copies  # sign: hops + 1 copies
        norm = None if cfg.norm == "none" else cfg.norm
        if residual:
            self.net = ResidualMLP(in_dim, cfg.hidden, dim, cfg.layers, norm, cfg.dropout)
        else:
            from torch_geometric.nn import MLP

            channels = [in_dim] + [cfg.hidden] * (cfg.layers - 1) + [dim]
            self.net = MLP(channels, norm=norm, dropout=cfg.dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.apply_rows(batch.x)

    def apply_rows(self, x: torch.Tensor) -> torch.Tensor:
        """psi of the nodes whose (prepared) feature rows are ``x``."""
        return self.net(x)

    @torch.no_grad()
    def embed_all(self, graph: Graph, chunk: int = 65536, progress: bool = False) -> torch.Tensor:
        self.eval()
        return self._apply_in_chunks(self.prepare(graph).x, chunk, progress)

    @torch.no_grad()
    def embed_shard(self, graph: Graph, lo: int, hi: int, gather_rows: Callable[[torch.Tensor], torch.Tensor],
                    progress: bool = False) -> torch.Tensor:
        """Each process applies the MLP to its own contiguous block of rows."""
        self.eval()
        return gather_rows(self._apply_in_chunks(self.prepare(graph).x[lo:hi], 65536, progress))

    def _apply_in_chunks(self, x: torch.Tensor, chunk: int, progress: bool) -> torch.Tensor:
        from tqdm.auto import tqdm

        if not len(x):
            return self.apply_rows(x.to(self.device)).cpu()
        starts = range(0, len(x), chunk)
        return torch.cat([self.apply_rows(x[s:s + chunk].to(self.device)).cpu()
                          for s in tqdm(starts, disable=not progress, desc="embed")])


class ResidualMLP(nn.Module):
    """Linear in, ``layers - 1`` residual blocks (norm, ReLU, dropout, linear), linear out."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int, norm, dropout: float) -> None:
        super().__init__()
        self.inp = nn.Linear(in_dim, hidden)
        make_norm = {None: nn.Identity, "batch_norm": nn.BatchNorm1d, "layer_norm": nn.LayerNorm}[norm]
        self.blocks = nn.ModuleList(
            nn.Sequential(make_norm(hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, hidden))
            for _ in range(max(layers - 1, 1))
        )
        self.out = nn.Sequential(make_norm(hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class PropagatedMLP(FeatureMLP):
    """SIGN-style: an MLP on [X, A_hat X, ..., A_hat^hops X], propagated once per graph.

    A step reads its seeds' rows only (no neighbor sampling), and export is ``hops`` sparse
    products plus the MLP, so it scales to graphs where a GNN's sampled batches do not.
    New nodes are embedded by propagating over the graph that holds them.

    The eigenvectors of K = D^-1/2 A D^-1/2 are D^1/2 times those of the random walk D^-1 A;
    GCN's symmetric normalization gives A_hat X the same sqrt(degree) factor, so the MLP can
    read it from its input. (Multiplying the output by sqrt(d_i / mean d) explicitly did worse
    at 1M nodes: d_G 4.36 against 0.35, though with another learning rate; docs/large_graphs.md.)
    """

    def __init__(self, graph: Graph, dim: int, cfg: EncoderConfig) -> None:
        if cfg.hops < 0:
            raise ConfigError(f"hops must be >= 0, got {cfg.hops}")
        super().__init__(graph, dim, cfg, residual=False, copies=cfg.hops + 1)
        self.hops = cfg.hops

    def prepare(self, graph: Graph) -> Graph:
        """The graph with x replaced by the propagated features (computed once per graph)."""
        if getattr(graph, "propagated_hops", None) == self.hops:
            return graph
        from graph_eigen.graph.propagation import propagate

        projected = super().prepare(graph)
        prepared = copy.copy(projected)
        prepared.x = torch.cat(propagate(projected, projected.x, self.hops), dim=1)
        prepared.propagated_hops = self.hops
        return prepared


class GNNEncoder(Encoder):
    """GraphSAGE or GCN on the sampled subgraph; export by layer-wise full-neighborhood inference."""

    reads_neighbors = True

    def __init__(self, graph: Graph, dim: int, cfg: EncoderConfig, kind: str) -> None:
        super().__init__()
        from torch_geometric.nn import GCN, GraphSAGE

        in_dim = self.set_projection(graph, cfg.input_dim)
        model = GraphSAGE if kind == "sage" else GCN
        norm = None if cfg.norm == "none" else cfg.norm
        self.net = model(in_dim, cfg.hidden, cfg.layers, out_channels=dim, norm=norm, dropout=cfg.dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.net(batch.x, batch.edge_index)

    @torch.no_grad()
    def embed_all(self, graph: Graph, chunk: int = 65536, progress: bool = False) -> torch.Tensor:
        """Layer by layer over the whole graph: one sparse product per layer, no loader.

        Each layer reads every node's full neighborhood (unit edge weights, as in training), so
        the result is that of PyG's layer-wise ``inference`` with a full-neighborhood loader.
        """
        from tqdm.auto import tqdm

        from graph_eigen.graph.propagation import adjacency_csr

        self.eval()
        graph = self.prepare(graph)
        n = graph.num_nodes
        adj_t = adjacency_csr(graph, weighted=False).to(self.device)  # symmetric: its own transpose
        x = graph.x.to(self.device)
        for layer in tqdm(range(self.net.num_layers), disable=not progress, desc="embed (layers)"):
            x = self.net.inference_per_layer(layer, x, adj_t, n)
        return x.cpu()

    @torch.no_grad()
    def embed_shard(self, graph: Graph, lo: int, hi: int, gather_rows: Callable[[torch.Tensor], torch.Tensor],
                    progress: bool = False, chunk: int = 65536) -> torch.Tensor:
        """PyG's layer-wise inference (full neighborhoods) with the loader's input nodes split over
        processes: every layer's rows are gathered before the next layer reads them."""
        from torch_geometric.data import Data
        from torch_geometric.loader import NeighborLoader

        assert getattr(self.net, "jk_mode", None) in (None, "last")
        self.eval()
        graph = self.prepare(graph)
        nodes = torch.arange(lo, hi)
        data = Data(x=graph.x, edge_index=graph.edge_index, num_nodes=graph.num_nodes)
        loader = NeighborLoader(data, num_neighbors=[-1], input_nodes=nodes, batch_size=chunk,
                                shuffle=False) if len(nodes) else []
        x_all = graph.x
        for layer in range(self.net.num_layers):
            parts = [self.net.inference_per_layer(layer, x_all[b.n_id], b.edge_index, b.batch_size) for b in loader]
            mine = torch.cat(parts) if parts else x_all.new_zeros((0, self.net.convs[layer].out_channels))
            x_all = gather_rows(mine)
        return x_all


def build_encoder(name: str, graph: Graph, dim: int, cfg: EncoderConfig | None = None, seed: int = 0) -> Encoder:
    """Make an encoder by name for ``graph`` with output dimension ``dim``."""
    cfg = cfg or EncoderConfig(name=name)
    if cfg.layers < 1 or cfg.hidden < 1:
        raise ConfigError(f"encoder needs layers >= 1 and hidden >= 1, got {cfg.layers}, {cfg.hidden}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"dropout must lie in [0, 1), got {cfg.dropout}")
    if cfg.norm not in ("none", "batch_norm", "layer_norm"):
        raise ConfigError(f"unknown norm '{cfg.norm}'; choose none, batch_norm or layer_norm")
    torch.manual_seed(seed)
    if name == "table":
        return TableEncoder(graph.num_nodes, dim, seed)
    if name not in ENCODERS:
        raise ConfigError(f"unknown encoder '{name}'; choose one of {', '.join(ENCODERS)}")
    if graph.x is None:
        raise ConfigError(f"encoder '{name}' needs node features, but dataset '{graph.name}' has none; use 'table'")
    if name in ("mlp", "resmlp"):
        return FeatureMLP(graph, dim, cfg, residual=name == "resmlp")
    if name == "sign":
        return PropagatedMLP(graph, dim, cfg)
    return GNNEncoder(graph, dim, cfg, kind=name)
