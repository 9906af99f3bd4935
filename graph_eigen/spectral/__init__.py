"""Eigensolvers of a graph's normalized Laplacian (dense, ARPACK, LOBPCG, AMG, Chebyshev-filtered
subspace iteration), their on-disk cache, and the feature-span eigenproblem."""
