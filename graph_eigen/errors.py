"""Exceptions raised by graph-eigen. Each names the problem; the CLI turns them into one line."""


class GraphEigenError(Exception):
    """Base class: a problem with the user's input, data or files (not a bug)."""


class InvalidGraphError(GraphEigenError, ValueError):
    """Edges, features, labels or splits that cannot form a valid graph."""


class ConfigError(GraphEigenError, ValueError):
    """An option value that is out of range or inconsistent with the data."""


class DatasetNotFoundError(GraphEigenError, FileNotFoundError):
    """An unknown dataset name, or a root folder that does not hold it."""


class CheckpointError(GraphEigenError):
    """A checkpoint or run folder that is missing, corrupt or incompatible."""


class TrainingDivergedError(GraphEigenError):
    """Training produced a non-finite loss."""
