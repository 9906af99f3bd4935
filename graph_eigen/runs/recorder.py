"""The run-folder recorder: training into a run folder, on top of the in-memory loop.

:func:`train` checks and locks the folder (graph_eigen.runs.folder), builds a
:class:`~graph_eigen.training.loop.TrainLoop`, writes config.json, one metrics.jsonl record per
step, the progress bar and checkpoints (the loop's state with the configuration), and on
resume loads the last checkpoint into the loop. Because every batch of the loop depends only on
(seed, step), a run killed and resumed from its last checkpoint ends with the same embedding as
an uninterrupted one.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional


from graph_eigen.config import TrainConfig
from graph_eigen.device import resolve_device
from graph_eigen.errors import CheckpointError, ConfigError, TrainingDivergedError
from graph_eigen.graph.core import Graph
from graph_eigen.io import atomic_write, save_json
from graph_eigen.model.build import Model
from graph_eigen.runs.checkpoint import load_checkpoint, load_config, save_checkpoint
from graph_eigen.runs.folder import CHECKPOINT, CONFIG, METRICS, RunFolder
from graph_eigen.runs.inputs import load_node_ids
from graph_eigen.training.distributed import DistContext
from graph_eigen.training.loop import NonFiniteLoss, TrainLoop

log = logging.getLogger(__name__)


def check_run_dir(out: str | Path, resume: bool, overwrite: bool) -> None:
    """Refuse an output that is a file, a run to resume that is missing, an existing run that
    would be clobbered, or a non-run folder to overwrite; changes nothing (so it can run before
    the model is built)."""
    RunFolder(out, resume, overwrite).check()


def prepare_run_dir(out: str | Path, resume: bool, overwrite: bool) -> RunFolder:
    """Create and lock the run folder (see graph_eigen.runs.folder); the caller closes it."""
    folder = RunFolder(out, resume, overwrite)
    try:
        folder.open()
    except BaseException:
        folder.close()
        raise
    return folder


def train(cfg: TrainConfig, graph: Graph, out: str | Path, resume: bool = False,
          overwrite: bool = False, progress: bool = True, stop_after: Optional[int] = None,
          dist: Optional[DistContext] = None) -> Model:
    """Train on ``graph`` into run folder ``out``; returns the trained model.

    ``stop_after`` ends the run after that many steps in total (used for tests of resume).
    ``dist``: this process's place in data-parallel training (graph_eigen.training.distributed).
    """
    dist = dist or DistContext()  # one process: every dist hook is a no-op
    cfg.validate()
    resolve_device(cfg.device)  # a bad --device is refused before the folder is looked at
    dist.on_writer(lambda: check_run_dir(out, resume, overwrite))  # fail fast, before any heavy work
    if resume:  # the saved configuration wins; only the number of epochs may be extended
        check_world_size(out, dist)
        cfg = TrainConfig.from_dict({**load_config(out).to_dict(), "epochs": cfg.epochs}).validate()
    seeds = load_node_ids(cfg.seed_nodes, graph.num_nodes, "seed_nodes")
    # everything that can reject the options, before the folder is touched
    loop = TrainLoop.build(cfg, graph, dist, seeds)
    folder = dist.on_writer(lambda: prepare_run_dir(out, resume, overwrite), default=RunFolder(out))
    try:
        recorder = _Recorder(loop, folder, resume, progress)
    except BaseException:
        folder.close()
        raise
    with recorder:
        recorder.run(stop_after)
    loop.model.objective.release()  # what only training reads: export and inference need none of it
    return loop.model


def check_world_size(run: str | Path, dist: DistContext) -> None:
    """A run's batches depend on the number of processes: resume with the same one."""
    try:
        saved = json.loads((Path(run) / CONFIG).read_text()).get("distributed")
    except (OSError, json.JSONDecodeError):
        return
    before = (saved or {}).get("world_size", 1)
    if before != dist.world_size:
        raise CheckpointError(
            f"run '{run}' was trained with {before} process(es); resume it with the same number "
            f"(now {dist.world_size}): the batches of each step depend on it")


class _Recorder:
    """A :class:`TrainLoop` recorded into an open run folder: config.json, metrics.jsonl, the
    progress bar and checkpoints (rank 0 alone writes); on resume, the checkpoint's state."""

    def __init__(self, loop: TrainLoop, folder: RunFolder, resume: bool, progress: bool) -> None:
        from tqdm.auto import tqdm

        self.loop, self.folder, self.dist, self.cfg = loop, folder, loop.dist, loop.cfg
        self.saved_step: Optional[int] = None  # the step of the last checkpoint on disk
        run, writer = folder.path, self.dist.is_writer  # --overwrite of a run: a sibling until the first checkpoint
        if resume and (run / CHECKPOINT).exists():
            state = load_checkpoint(run)
            try:
                loop.load_state_dict(state)
            except (RuntimeError, KeyError, ValueError) as exc:
                raise CheckpointError(f"cannot resume from the checkpoint in '{run}': "
                                      f"{str(exc).splitlines()[0]}") from exc
            self.saved_step = loop.step
            if loop.step > loop.total_steps:  # checked before config.json is rewritten
                raise ConfigError(f"`epochs` ({self.cfg.epochs}) is below the {loop.step / loop.steps_per_epoch:g} "
                                  f"epochs this run has done: resuming can only extend a run")
            log.info("resumed from step %d", loop.step)
        elif resume and writer:
            log.warning("no checkpoint.pt in '%s' (killed before its first checkpoint): training starts "
                        "again from step 0 with the run's saved configuration", run)
        self.dist.on_writer(lambda: save_json(run / CONFIG, {**self.cfg.to_dict(), **self.dist.run_info()}))
        if resume and writer:  # drop the records of steps after the checkpoint: they are trained again
            _truncate_metrics(run / METRICS, loop.step)
        elif writer:
            (run / METRICS).unlink(missing_ok=True)
        no_steps = loop.total_steps == 0  # the closed-form fit: no step to show
        self.bar = tqdm(total=loop.total_steps, initial=loop.step, disable=not progress or not writer or no_steps,
                        desc="train", dynamic_ncols=True)
        self.metrics = open(run / METRICS if writer else os.devnull, "a")

    def __enter__(self) -> "_Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.metrics.close()
        self.bar.close()
        self.folder.close()

    def run(self, stop_after: Optional[int]) -> None:
        """The loop's remaining steps, each recorded; a checkpoint every ``checkpoint_every``
        steps, at the end of each epoch and at the end (or after ``stop_after`` steps in all)."""
        loop, every = self.loop, self.cfg.checkpoint_every
        if loop.closed_form_record is not None:  # fit without steps: its record and one checkpoint
            if self.saved_step is None:
                self.metrics.write(json.dumps(loop.closed_form_record) + "\n")
                self.metrics.flush()
                self.checkpoint()
            return
        steps = loop.steps()
        try:
            for record in steps:
                self.metrics.write(json.dumps(record) + "\n")
                self.bar.update(1)
                if "loss" in record:
                    self.bar.set_postfix(loss=f"{record['loss']:.4f}", eig=_short(record.get("eig")))
                if loop.step % every == 0 or loop.at_epoch_end or loop.step == loop.total_steps:
                    self.metrics.flush()
                    self.checkpoint()
                if stop_after is not None and loop.step >= stop_after:
                    return
        except NonFiniteLoss as exc:
            raise TrainingDivergedError(
                f"non-finite loss at step {exc.step}; {self.kept()} (try a smaller `lr`)") from None
        finally:
            steps.close()

    def kept(self) -> str:
        """What a failed run leaves behind, for its error message."""
        folder = self.folder
        if not self.dist.is_writer:  # rank 0 writes the checkpoints
            return f"rank 0 keeps the last good checkpoint in '{folder.out}', if any"
        if self.saved_step is not None:
            return f"the last good checkpoint (step {self.saved_step}) in '{folder.path}' is kept"
        if folder.pending:
            return f"no checkpoint was written and the previous run in '{folder.out}' is untouched"
        return f"no checkpoint was written to '{folder.path}'"

    def checkpoint(self) -> None:
        """Save the loop's state (rank 0), refusing non-finite parameters (the last good
        checkpoint stays); with --overwrite the new run then replaces the old one."""
        if not self.dist.is_writer:
            return
        loop = self.loop
        if not loop.parameters_finite():
            raise TrainingDivergedError(
                f"non-finite parameters after step {loop.step - 1}; {self.kept()} (try a smaller `lr`)")
        save_checkpoint(self.folder.path, loop.checkpoint_state())
        self.saved_step = loop.step
        self.folder.commit()


def _truncate_metrics(path: Path, step: int) -> None:
    """Keep the complete records of steps before ``step`` (a killed run may leave more, or half a line)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("step", step) < step:
            kept.append(line + "\n")
    atomic_write(path, lambda tmp: Path(tmp).write_text("".join(kept)))


def _short(values) -> str:
    if not values:
        return ""
    return ",".join(f"{v:.3f}" for v in values[:4]) + (",..." if len(values) > 4 else "")
