"""A run: its folder on disk (file names, lock, config, checkpoint), its inputs (graph and node
ids), the size-based defaults, the one function that assembles and fits a run, export, and the
embedding of new nodes."""
