"""`graph-eigen` command line: thin over the library API. Errors print one line and exit 2."""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import warnings
from dataclasses import fields
from typing import Callable, Optional

from .config import FEATURE_KNN_SOURCES, TrainConfig
from .errors import GraphEigenError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
# modules with ``add_parsers(sub, add_dataset_args)`` that register more sub-commands
COMMAND_MODULES = ("cli_commands", "cli_probe", "cli_diagnose")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"graph-eigen: error: {message}\n")


def command(name: str):
    def register(fn):
        COMMANDS[name] = fn
        return fn

    return register


def add_dataset_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--dataset", required=required, help="registry name, e.g. CS, ogbn-products, sbm:n=10000")
    p.add_argument("--root", default=None, help="folder holding the dataset (read-only); default $GRAPH_EIGEN_DATA")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="graph-eigen", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    p = sub.add_parser("info", help="print a dataset's size as JSON")
    add_dataset_args(p)

    p = sub.add_parser("exact", help="write the exact first-K eigenvectors of L_sym")
    add_dataset_args(p)
    p.add_argument("--dim", type=int, required=True, help="number of eigenvectors K")
    p.add_argument("--out", required=True, help="output .npy (n x K float32)")
    p.add_argument("--method", default="auto", choices=["auto", "dense", "eigsh", "lobpcg", "amg", "chebyshev"],
                   help="eigensolver; auto: dense up to 3,000 nodes, eigsh up to 200,000, chebyshev above "
                        "(auto solves are cached per graph, K and operator)")
    p.add_argument("--tol", type=float, default=0.0, help="residual tolerance (0: the solver's default)")
    p.add_argument("--device", default="auto", help="chebyshev solver: auto, cpu or cuda")
    p.add_argument("--laplacian", default="sym", choices=["sym", "rw", "unnormalized"])
    p.add_argument("--feature-knn", type=int, default=None,
                   help="add a kNN graph of the node features to the operator (as train --feature-knn); "
                        "default: train's default for the dataset (10 when it has features), 0: the graph alone")
    p.add_argument("--feature-knn-weight", type=float, default=1.0)
    p.add_argument("--feature-knn-source", choices=FEATURE_KNN_SOURCES, default="both",
                   help="features the kNN graph is found in (as train --feature-knn-source)")

    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(f"graph_eigen.{module}").add_parsers(sub, add_dataset_args)
    return parser


@command("info")
def _info(args: argparse.Namespace) -> int:
    from .data import load_dataset

    print(json.dumps(load_dataset(args.dataset, args.root).summary()))
    return 0


@command("exact")
def _exact(args: argparse.Namespace) -> int:
    import time

    from .data import load_dataset
    from .eigsolve import exact_eigenpairs
    from .io import save_json, save_npy

    from .feature_graph import with_feature_knn
    from .presets import recommended_config

    graph = load_dataset(args.dataset, args.root)
    knn = args.feature_knn
    if knn is None:  # the operator `train` learns by default for this graph, so the two compare
        knn = recommended_config(args.dataset, graph.num_nodes, has_features=graph.x is not None).feature_knn
    graph = with_feature_knn(graph, knn, args.feature_knn_weight, args.feature_knn_source)
    start = time.perf_counter()
    from .device import resolve_device

    pairs = exact_eigenpairs(graph, args.dim, laplacian_kind=args.laplacian, method=args.method, tol=args.tol,
                             device=resolve_device(args.device))
    seconds = time.perf_counter() - start
    save_npy(args.out, pairs.vectors.astype("float32"))
    meta = {"dataset": graph.name, "k": args.dim, "laplacian": args.laplacian, "method": pairs.method,
            "operator": {"feature_knn": knn, "feature_knn_weight": args.feature_knn_weight,
                         "feature_knn_source": args.feature_knn_source} if knn else "the graph alone",
            "residual": pairs.residual, "eigenvalues": pairs.values.tolist(), "seconds": seconds}
    save_json(str(args.out) + ".json", meta)
    print(json.dumps(meta))
    return 0


_PARAM = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def command_flags(parser: argparse.ArgumentParser, command: Optional[str]) -> dict[str, str]:
    """The options of ``parser``'s sub-command ``command``: each one's dest (the Python name)
    mapped to its long flag, e.g. ``{"out": "--out", "stop_grad": "--no-stop-grad"}``."""
    flags: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            for option in action.choices[command]._actions:
                long = [s for s in option.option_strings if s.startswith("--")]
                if long and not isinstance(option, argparse._HelpAction):
                    flags.setdefault(option.dest, long[0])
    return flags


def flag_message(message: str, flags: Optional[dict[str, str]] = None) -> str:
    """A library error message as the command line shows it.

    Library messages name a parameter as its Python name in backticks (`feature_knn_source`,
    see graph_eigen.errors); each such name that is a training option (a TrainConfig field) or
    in ``flags`` (dest -> flag, e.g. from :func:`command_flags`) becomes its flag without backticks
    (--feature-knn-source). Other backticked words are left as they are.
    """
    known = {f.name: "--" + f.name.replace("_", "-") for f in fields(TrainConfig)}
    known.update(flags or {})
    return _PARAM.sub(lambda m: known.get(m.group(1), m.group(0)), message)


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # notes from torch (beta sparse tensors) and PyG (pyg-lib is not on PyPI) are not for users
    warnings.filterwarnings("ignore", message=r"Sparse (CSR tensor support is in beta|invariant checks)")
    warnings.filterwarnings("ignore", message=r".*pyg-lib")
    try:
        return COMMANDS[args.command](args)
    except GraphEigenError as exc:
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        message = flag_message(message, command_flags(parser, args.command))
        print(f"graph-eigen: error: {message}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"graph-eigen: error: out of memory running '{args.command}' (an input or option is too large "
              f"for this machine)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("graph-eigen: interrupted", file=sys.stderr)
        return 130
