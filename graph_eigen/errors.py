"""Exceptions raised by graph-eigen. Each names the problem; the CLI turns them into one line.

Library messages name a parameter as its Python name in backticks, built with :func:`param`
(`dim`, `feature_knn_source`), since a Python caller of ``GraphEigen`` or ``TrainConfig`` never
typed a flag; the command line shows each such name that is one of its options as ``--name``
(``--dim``, ``--feature-knn-source``; ``cli.flag_message``).
"""


def param(name: str) -> str:
    """A parameter's name as library error messages write it: the Python name in backticks."""
    return f"`{name}`"


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
