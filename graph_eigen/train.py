"""The training loop: optimizer, schedule, progress bar, metrics.jsonl, checkpoints and resume.

Every batch is a deterministic function of (seed, step): the sampler's permutation is drawn
from its own generator and the global RNG is re-seeded before each step, so a run killed and
resumed from its last checkpoint ends with the same embedding as an uninterrupted one.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Optional

import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .device import resolve_device
from .distributed import DistContext, make_sampler, setup_model
from .errors import CheckpointError, ConfigError, TrainingDivergedError
from .graph import Graph
from .io import atomic_write, save_json
from .model import Model, build_model
from .run_graph import load_node_ids
from .rundir import RunFolder

log = logging.getLogger(__name__)


def check_run_dir(out: str | Path, resume: bool, overwrite: bool) -> None:
    """Refuse an output that is a file, a run to resume that is missing, an existing run that
    would be clobbered, or a non-run folder to overwrite; changes nothing (so it can run before
    the model is built)."""
    RunFolder(out, resume, overwrite).check()


def prepare_run_dir(out: str | Path, resume: bool, overwrite: bool) -> RunFolder:
    """Create and lock the run folder (see graph_eigen.rundir); the caller closes it."""
    folder = RunFolder(out, resume, overwrite)
    try:
        folder.open()
    except BaseException:
        folder.close()
        raise
    return folder


def make_optimizer(cfg: TrainConfig, params, total_steps: int, sparse: bool = False):
    """Adam or SGD with the configured schedule.

    ``sparse``: the parameters get sparse gradients (the table encoder), so Adam becomes
    ``torch.optim.SparseAdam``; neither it nor SGD supports weight decay on sparse gradients.
    """
    if sparse and cfg.weight_decay:
        raise ConfigError(f"--weight-decay is not supported with the '{cfg.encoder}' encoder "
                          f"(sparse gradients); got {cfg.weight_decay}")
    if cfg.optimizer == "adam" and sparse:
        opt = torch.optim.SparseAdam(list(params), lr=cfg.lr)
    elif cfg.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    if cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return opt, sched


def train(cfg: TrainConfig, graph: Graph, out: str | Path, resume: bool = False,
          overwrite: bool = False, progress: bool = True, stop_after: Optional[int] = None,
          dist: Optional[DistContext] = None) -> Model:
    """Train on ``graph`` into run folder ``out``; returns the trained model.

    ``stop_after`` ends the run after that many steps in total (used for tests of resume).
    ``dist``: this process's place in data-parallel training (graph_eigen.distributed).
    """
    dist = dist or DistContext()  # one process: every dist hook is a no-op
    from tqdm.auto import tqdm

    cfg.validate()
    device = resolve_device(cfg.device)
    dist.on_writer(lambda: check_run_dir(out, resume, overwrite))  # fail fast, before any heavy work
    if resume:  # the saved configuration wins; only the number of epochs may be extended
        check_world_size(out, dist)
        cfg = TrainConfig.from_dict({**TrainConfig.load(out).to_dict(), "epochs": cfg.epochs}).validate()
    if cfg.dim >= graph.num_nodes:
        raise ConfigError(f"--dim must be smaller than the number of nodes ({graph.num_nodes}), got {cfg.dim}")

    # everything that can reject the options runs before the run folder is touched
    model = build_model(cfg, graph)
    graph = model.encoder.prepare(graph)  # features projected once when --input-dim is set
    sampler = make_sampler(dist, graph, cfg.batch_size, cfg.fanouts, seed=cfg.seed,
                           seed_nodes=load_node_ids(cfg.seed_nodes, graph.num_nodes, "--seed-nodes"),
                           anchors=model.objective.anchor_nodes(graph),
                           with_features=model.encoder.reads_features,
                           with_neighbors=model.encoder.reads_neighbors or model.objective.needs_neighbors)
    setup_model(dist, model, graph, sampler, embed_all=lambda: model.encoder.embed_all(graph))
    model.encoder.to(device)  # the encoder, the batches and the objective's state live there
    model.objective.to(device)
    steps_per_epoch = sampler.steps_per_epoch
    total = cfg.epochs * steps_per_epoch
    opt, sched = make_optimizer(cfg, model.encoder.parameters(), total,
                                sparse=getattr(model.encoder, "sparse", False))

    folder = dist.on_writer(lambda: prepare_run_dir(out, resume, overwrite), default=RunFolder(out))
    run = folder.path  # with --overwrite of a run: a sibling folder until the first checkpoint
    step, skipped, epoch_state = 0, 0, sampler.state_dict()
    saved_step = None  # the step of the last checkpoint on disk
    try:
        dist.on_writer(lambda: save_json(run / "config.json", {**cfg.to_dict(), **dist.run_info()}))
        if resume and (run / "checkpoint.pt").exists():
            state = load_checkpoint(run)
            try:
                model.encoder.load_state_dict(state["encoder"])
                model.objective.load_state_dict(state["objective"])
                opt.load_state_dict(state["optimizer"])
                sched.load_state_dict(state["scheduler"])
                step, skipped, epoch_state = state["step"], state["skipped"], state["epoch_sampler"]
            except (RuntimeError, KeyError, ValueError) as exc:
                raise CheckpointError(f"cannot resume from the checkpoint in '{run}': "
                                      f"{str(exc).splitlines()[0]}") from exc
            saved_step = step
            log.info("resumed from step %d", step)
        elif resume and dist.is_writer:
            log.warning("no checkpoint.pt in '%s' (killed before its first checkpoint): training starts "
                        "again from step 0 with the run's saved configuration", run)
        if resume and dist.is_writer:  # drop the records of steps after the checkpoint: they are trained again
            _truncate_metrics(run / "metrics.jsonl", step)
        elif dist.is_writer:
            (run / "metrics.jsonl").unlink(missing_ok=True)
        bar = tqdm(total=total, initial=step, disable=not progress or not dist.is_writer, desc="train",
                   dynamic_ncols=True)
        metrics_file = open(run / "metrics.jsonl" if dist.is_writer else os.devnull, "a")
    except BaseException:
        folder.close()
        raise

    def kept() -> str:
        if not dist.is_writer:  # rank 0 writes the checkpoints
            return f"rank 0 keeps the last good checkpoint in '{out}', if any"
        if saved_step is not None:
            return f"the last good checkpoint (step {saved_step}) in '{run}' is kept"
        if folder.pending:
            return f"no checkpoint was written and the previous run in '{out}' is untouched"
        return f"no checkpoint was written to '{run}'"

    def checkpoint(at_step: int, sampler_state: dict) -> None:
        nonlocal run, saved_step
        if not dist.is_writer:
            return
        tensors = list(model.encoder.state_dict().values()) + list(model.objective.state_dict().values())
        if not all(torch.isfinite(t).all() for t in tensors if t.is_floating_point()):
            raise TrainingDivergedError(
                f"non-finite parameters after step {at_step - 1}; {kept()} (try a smaller --lr)")
        save_checkpoint(run, {
            "encoder": model.encoder.state_dict(), "objective": model.objective.state_dict(),
            "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": at_step,
            "skipped": skipped, "epoch_sampler": sampler_state, "config": cfg.to_dict(),
        })
        saved_step = at_step
        run = folder.commit()  # --overwrite: the new run replaces the old one now

    try:
        while step < total:
            epoch, offset = divmod(step, steps_per_epoch)
            sampler.load_state_dict(epoch_state)
            batches = _seeded(sampler.epoch(), cfg.seed, epoch * steps_per_epoch)
            for i, batch in enumerate(batches):
                if i < offset:
                    continue
                started = time.perf_counter()
                batch = batch.to(device)
                model.encoder.train()
                model.objective.train()
                if model.objective.needs_neighbors and dist.all_true(batch.op_index.shape[1] == 0):
                    skipped += 1
                    record = {"step": step, "skipped_batch": True, "skipped_total": skipped}
                else:
                    psi = model.encoder(batch)
                    loss, record = model.objective.loss(batch, psi)
                    if not dist.all_true(bool(torch.isfinite(loss))):
                        raise TrainingDivergedError(
                            f"non-finite loss at step {step}; {kept()} (try a smaller --lr)")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    dist.average_gradients(model.encoder)  # the union batch's gradient (no-op in one process)
                    opt.step()
                    sched.step()
                    record.update(step=step, epoch=epoch, lr=sched.get_last_lr()[0],
                                  seconds=time.perf_counter() - started, skipped_total=skipped)
                metrics_file.write(json.dumps(record) + "\n")
                step += 1
                bar.update(1)
                if "loss" in record:
                    bar.set_postfix(loss=f"{record['loss']:.4f}", eig=_short(record.get("eig")))
                end_of_epoch = i == steps_per_epoch - 1
                if end_of_epoch:
                    epoch_state = sampler.state_dict()
                if step % cfg.checkpoint_every == 0 or end_of_epoch or step == total:
                    metrics_file.flush()
                    checkpoint(step, epoch_state)
                if stop_after is not None and step >= stop_after:
                    return model
    finally:
        metrics_file.close()
        bar.close()
        folder.close()
    return model


def check_world_size(run: str | Path, dist: DistContext) -> None:
    """A run's batches depend on the number of processes: resume with the same one."""
    try:
        saved = json.loads((Path(run) / "config.json").read_text()).get("distributed")
    except (OSError, json.JSONDecodeError):
        return
    before = (saved or {}).get("world_size", 1)
    if before != dist.world_size:
        raise CheckpointError(
            f"run '{run}' was trained with {before} process(es); resume it with the same number "
            f"(now {dist.world_size}): the batches of each step depend on it")


def _step_seed(seed: int, step: int) -> int:
    return (seed * 1_000_003 + step * 7919 + 17) % (2 ** 63 - 1)


def _seeded(batches, seed: int, first_step: int):
    """Re-seed the global RNG before each batch is drawn: neighbor sampling and then the
    step's own randomness (dropout) depend only on (seed, step), also after a resume."""
    batches = iter(batches)
    step = first_step
    while True:
        torch.manual_seed(_step_seed(seed, step))
        try:
            batch = next(batches)
        except StopIteration:
            return
        yield batch
        step += 1


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
