"""Command-line parsing shared by every sub-command: one-line usage errors, the dataset options,
and library messages with parameter names shown as flags."""
from __future__ import annotations

import argparse
import re
from dataclasses import fields
from typing import Optional

from graph_eigen.config import TrainConfig


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"graph-eigen: error: {message}\n")


def add_dataset_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--dataset", required=required, help="registry name, e.g. CS, ogbn-products, sbm:n=10000")
    p.add_argument("--root", default=None, help="folder holding the dataset (read-only); default $GRAPH_EIGEN_DATA")


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
