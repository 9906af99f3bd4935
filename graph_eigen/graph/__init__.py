"""Graphs and what is computed on them directly: the Graph container, normalized operators,
feature propagation, neighbor sampling, and kNN graphs (search and builders)."""
from graph_eigen.graph.core import SPLIT_NAMES, Graph

__all__ = ["Graph", "SPLIT_NAMES"]
