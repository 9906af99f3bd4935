"""graph-eigen: spectral node embeddings of large graphs with neural networks."""
from graph_eigen.api import GraphEigen, as_graph
from graph_eigen.data import load_dataset
from graph_eigen.errors import GraphEigenError
from graph_eigen.evaluate.probe import linear_probe
from graph_eigen.evaluate.spectral import orthogonality, subspace_distance
from graph_eigen.graph.core import Graph
from graph_eigen.spectral.eigsolve import exact_eigenpairs

__version__ = "0.1.0"
__all__ = ["Graph", "GraphEigen", "GraphEigenError", "as_graph", "exact_eigenpairs", "linear_probe",
           "load_dataset", "orthogonality", "subspace_distance", "__version__"]
