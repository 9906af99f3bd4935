"""graph-eigen: spectral node embeddings of large graphs with neural networks."""
from .api import GraphEigen, as_graph
from .data import load_dataset
from .eigsolve import exact_eigenpairs
from .errors import GraphEigenError
from .evaluate.probe import linear_probe
from .evaluate.spectral import orthogonality, subspace_distance
from .graph import Graph

__version__ = "0.1.0"
__all__ = ["Graph", "GraphEigen", "GraphEigenError", "as_graph", "exact_eigenpairs", "linear_probe",
           "load_dataset", "orthogonality", "subspace_distance", "__version__"]
