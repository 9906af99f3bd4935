"""Judging an embedding: spectral quality, clustering, linear probes."""
