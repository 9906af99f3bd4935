"""`graph-eigen` command line: thin over the library API. Errors print one line and exit 2.

Every sub-command is a function of the parsed arguments, listed in ``COMMANDS``; its options are
added by its module's ``add_parsers``."""
from __future__ import annotations

import argparse
import logging
import sys
import warnings
from typing import Callable, Optional

from graph_eigen.cli import dataset, diagnose, probe, runs
from graph_eigen.cli.parsing import OneLineParser, command_flags, flag_message
from graph_eigen.errors import GraphEigenError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "info": dataset.info_command,
    "exact": dataset.exact_command,
    "train": runs.train_command,
    "embed": runs.embed_command,
    "eval": runs.eval_command,
    "demo": runs.demo_command,
    "probe": probe.probe_command,
    "plot": probe.plot_command,
    "diagnose-batches": diagnose.diagnose_batches_command,
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="graph-eigen", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for module in (dataset, runs, probe, diagnose):
        module.add_parsers(sub)
    return parser


def run() -> None:
    """The `graph-eigen` program (console script and ``python -m graph_eigen``): :func:`main`, then
    exit with its code; a process that joined a distributed run exits without finalizing the
    interpreter (see ``exit_process``)."""
    code = main()
    from graph_eigen.training.distributed import exit_process, joined_process_group

    if joined_process_group():
        exit_process(code)
    sys.exit(code)


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
