"""What a long job or a benchmark records about the process running it: resident memory (peak
and current, with a per-stage reset of the peak on Linux), a wall-clock limit for a stage, and
the software and machine it ran on.

Its modules hold what several benchmark scripts share: ``harness.training`` (runs, timed steps,
stages), ``harness.speed_report`` (speed.py's figures and reports), ``harness.variants`` (the
alternatives profile_step.py times against the library), ``harness.report`` (tables, command)."""
from __future__ import annotations

import os
import platform
import re
import resource
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

REPOSITORY = Path(__file__).resolve().parents[2]


def peak_rss_gib() -> float:
    """The process's peak resident memory since start or the last :func:`reset_peak_rss` (GiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is KiB on Linux


def current_rss_gib() -> float:
    """The process's resident memory now (GiB; 0 where /proc is missing)."""
    try:
        match = re.search(r"^VmRSS:\s+(\d+)\s+kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return 0.0
    return (int(match.group(1)) if match else 0) / 2**20


def reset_peak_rss() -> bool:
    """Reset the high-water mark of the resident set (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class StageTimeout(Exception):
    """A stage ran past its :func:`time_limit`."""


@contextmanager
def time_limit(seconds: Optional[float]) -> Iterator[None]:
    """Raise StageTimeout in the main thread after ``seconds`` (None or 0: no limit)."""
    if not seconds:
        yield
        return

    def handler(signum, frame):
        raise StageTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def environment() -> dict:
    """Versions, threads, machine, git commit, load and date: what a timing depends on."""
    import numpy as np
    import torch

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPOSITORY, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    try:
        from threadpoolctl import threadpool_info

        blas = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        blas = None
    return {
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "blas_threads": blas,
        "nice": os.nice(0), "machine": platform.machine(), "git_commit": commit,
        "loadavg_start": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
