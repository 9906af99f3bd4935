"""Run folders: what counts as a run, an exclusive lock per folder, and `--overwrite` that keeps
the old run until the new one has its first checkpoint.

A run is a folder holding graph-eigen's ``config.json``. Only a run holding nothing but the files
a run writes (``RUN_FILES``), or an empty folder, may be replaced: a folder where the user keeps
other files is refused, never emptied. The
replacement is written in the hidden sibling ``.NAME.new`` and renamed onto ``NAME`` after its
first checkpoint (the old run goes to ``.NAME.old`` for the moment of the swap, then is deleted);
if training fails before that, the old run is untouched and ``.NAME.new`` is removed.
"""
from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Optional

from graph_eigen.errors import CheckpointError, ConfigError

LOCK = ".graph-eigen.lock"
CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
EMBEDDINGS = "embeddings.npy"
METRICS = "metrics.jsonl"
EVAL = "eval.json"
PROBE = "probe.json"
PLOTS = "plots"  # a folder of PNGs (evaluate/plots.py)
RUN_FILES = (CONFIG, CHECKPOINT, EMBEDDINGS, EMBEDDINGS + ".json", METRICS, EVAL, PROBE, PLOTS, LOCK)


def is_run(folder: str | Path) -> bool:
    """Whether ``folder`` holds a run: a config.json that graph-eigen wrote (a JSON object with
    the run's ``objective``, ``encoder`` and ``dim``)."""
    import json

    path = Path(folder) / CONFIG
    if not path.is_file():
        return False
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and {"objective", "encoder", "dim"} <= set(content)


def foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that a run does not write (a user's files), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                  if p.name not in RUN_FILES and not (p.name.startswith(".") and p.name.endswith(".tmp")))


def has_entries(folder: Path, ignore: tuple = (LOCK,)) -> bool:
    """Whether ``folder`` exists and holds anything besides a lock file."""
    return folder.is_dir() and any(p.name not in ignore for p in folder.iterdir())


class RunLock:
    """An exclusive, non-blocking ``flock`` on ``FOLDER/.graph-eigen.lock`` holding the owner's pid.

    The lock file is removed on release; a lock left by a killed process is free (the kernel
    drops ``flock`` locks with the process), so no stale-lock detection is needed.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.fd: Optional[int] = None

    def acquire(self) -> "RunLock":
        path = self.folder / LOCK
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ConfigError(f"cannot lock run folder '{self.folder}': {exc.strerror or exc}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise ConfigError(f"run folder '{self.folder}' is in use by another graph-eigen process "
                                  f"(pid {owner}); wait for it to end or choose another `out`") from None
            try:  # the holder before us may have removed the file after we opened it: lock the new one
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.folder / LOCK)
        except OSError:
            pass  # the folder was swapped or removed: nothing left to clean
        os.close(self.fd)
        self.fd = None


class RunFolder:
    """The folder a training run writes to: checked, locked, and written aside for --overwrite."""

    def __init__(self, out: str | Path, resume: bool = False, overwrite: bool = False) -> None:
        self.out, self.resume, self.overwrite = Path(out), resume, overwrite
        self.path = self.out  # where the run writes now (the sibling .NAME.new until the swap)
        self.locks: list[RunLock] = []

    @property
    def pending(self) -> bool:
        """Whether the run is still written aside (the old run not yet replaced)."""
        return self.path != self.out

    def check(self) -> None:
        """Refuse an output that is a file, a run to resume that is missing, an existing run that
        would be clobbered, or a folder to overwrite that is not a run; changes nothing."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise ConfigError(f"output '{out}' exists and is not a folder")
        if self.resume:
            if not is_run(out):
                raise CheckpointError(f"cannot resume: '{out}' holds no run (config.json missing)")
            return
        if has_entries(out) and not self.overwrite:
            raise ConfigError(f"run folder '{out}' already exists and is not empty; pass `overwrite` or `resume`")
        if has_entries(out) and not is_run(out):
            raise ConfigError(f"'{out}' is not empty and holds no run (no graph-eigen config.json): refusing "
                              f"to replace it; choose another `out`")
        foreign = foreign_entries(out)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise ConfigError(f"'{out}' holds files a run does not write ({shown}): `overwrite` would "
                              f"delete them; move them or choose another `out`")

    def open(self) -> Path:
        """Create and lock the folder; for --overwrite of a run, create and lock ``.NAME.new``."""
        self.check()
        out = self.out
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"output folder '{out}' is not writable: {exc.strerror or exc}") from exc
        self.locks.append(RunLock(out).acquire())
        self.check()  # again under the lock: another process may have written meanwhile
        if self.resume:
            for stale in out.glob(".*.tmp"):  # temporary files of a write that was killed
                stale.unlink()
            return out
        if has_entries(out):  # a run to overwrite: write the new one aside
            new = self._sibling("new")
            shutil.rmtree(new, ignore_errors=True)  # left by a killed --overwrite (we hold the lock)
            shutil.rmtree(self._sibling("old"), ignore_errors=True)
            try:
                new.mkdir()
            except OSError as exc:
                raise ConfigError(f"cannot write the new run next to '{out}': {exc.strerror or exc}; "
                                  f"the old run is untouched") from exc
            self.locks.append(RunLock(new).acquire())
            self.path = new
        try:
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"output folder '{self.path}' is not writable: {exc.strerror or exc}") from exc
        return self.path

    def commit(self) -> Path:
        """After the new run's first checkpoint: swap it in for the old run (no-op otherwise)."""
        if not self.pending:
            return self.out
        old = self._sibling("old")
        try:
            os.replace(self.out, old)
            try:
                os.replace(self.path, self.out)
            except OSError:
                os.replace(old, self.out)
                raise
        except OSError as exc:
            raise ConfigError(f"cannot replace '{self.out}' with the new run: {exc.strerror or exc}") from exc
        old_lock = self.locks.pop(0)  # its lock file went with the old run
        os.close(old_lock.fd)
        old_lock.fd = None
        shutil.rmtree(old, ignore_errors=True)
        self.locks[0].folder = self.path = self.out
        return self.out

    def close(self) -> None:
        """Release the locks; a new run never swapped in (failed early) is removed."""
        if self.pending:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = self.out
        for lock in reversed(self.locks):
            lock.release()
        self.locks.clear()

    def _sibling(self, tag: str) -> Path:
        return self.out.parent / f".{self.out.name}.{tag}"
