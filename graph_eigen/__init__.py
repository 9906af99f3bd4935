"""graph-eigen: spectral node embeddings of large graphs with neural networks."""
from .errors import GraphEigenError
from .graph import Graph

__version__ = "0.1.0"
__all__ = ["Graph", "GraphEigenError", "__version__"]
