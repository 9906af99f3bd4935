"""Plain-text and Markdown tables, numbers formatted for them, and the command line a results
file records."""
from __future__ import annotations

import os
import shlex
import sys

from harness import REPOSITORY


def command_line(argv: list[str] | None = None) -> str:
    """``python <script relative to the repository> <options>``: the command behind a results file."""
    argv = sys.argv if argv is None else argv
    return "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(argv[0], REPOSITORY)] + argv[1:])


def fmt(v, unit: str = "", digits: int = 2) -> str:
    """A number with thousands separators and ``unit``; ``-`` for None."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}{unit}"
    return f"{v:,}{unit}"


def text_table(head, body) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(x).ljust(wd) for x, wd in zip(head, widths))]
    lines.append("  ".join("-" * wd for wd in widths))
    lines += ["  ".join(str(x).ljust(wd) for x, wd in zip(row, widths)) for row in body]
    return "\n".join(lines)


def md_table(head, body) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(x).replace("|", "/") for x in row) + " |" for row in body]
    return "\n".join(lines)
