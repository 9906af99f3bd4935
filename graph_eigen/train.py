"""The training loop: optimizer, schedule, progress bar, metrics.jsonl, checkpoints and resume.

Every batch is a deterministic function of (seed, step): the sampler's permutation is drawn
from its own generator and the global RNG is re-seeded before each step, so a run killed and
resumed from its last checkpoint ends with the same embedding as an uninterrupted one.
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .encoders import EncoderConfig, build_encoder
from .errors import CheckpointError, ConfigError, TrainingDivergedError
from .graph import Graph
from .io import save_json
from .objectives import build_objective
from .sampling import BatchSampler

log = logging.getLogger(__name__)


@dataclass
class Model:
    """What training produces: the encoder and the objective's inference state."""

    config: TrainConfig
    encoder: torch.nn.Module
    objective: torch.nn.Module


def build_model(cfg: TrainConfig, graph: Graph) -> Model:
    enc_cfg = EncoderConfig(cfg.encoder, cfg.hidden, cfg.layers, cfg.norm, cfg.dropout)
    encoder = build_encoder(cfg.encoder, graph, cfg.dim, enc_cfg, seed=cfg.seed)
    objective = build_objective(cfg.objective, cfg.dim, **cfg.objective_params())
    return Model(cfg, encoder, objective)


def prepare_run_dir(out: str | Path, resume: bool, overwrite: bool) -> Path:
    """Create the run folder; refuse to clobber an existing run unless asked."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output '{out}' exists and is not a folder")
    if resume:
        if not (out / "config.json").is_file():
            raise CheckpointError(f"cannot resume: '{out}' holds no run (config.json missing)")
        return out
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"run folder '{out}' already exists and is not empty; pass --overwrite or --resume")
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output folder '{out}' is not writable: {exc.strerror or exc}") from exc
    return out


def make_optimizer(cfg: TrainConfig, params, total_steps: int):
    if cfg.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    if cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return opt, sched


def train(cfg: TrainConfig, graph: Graph, out: str | Path, resume: bool = False,
          overwrite: bool = False, progress: bool = True, stop_after: Optional[int] = None) -> Model:
    """Train on ``graph`` into run folder ``out``; returns the trained model.

    ``stop_after`` ends the run after that many steps in total (used for tests of resume).
    """
    from tqdm.auto import tqdm

    cfg.validate()
    run = prepare_run_dir(out, resume, overwrite)
    if resume:  # the saved configuration wins; only the number of epochs may be extended
        cfg = TrainConfig.from_dict({**TrainConfig.load(run).to_dict(), "epochs": cfg.epochs})
    save_json(run / "config.json", cfg.to_dict())

    model = build_model(cfg, graph)
    sampler = BatchSampler(graph, cfg.batch_size, cfg.fanouts, seed=cfg.seed,
                           anchors=model.objective.anchor_nodes(graph),
                           with_features=model.encoder.reads_features)
    model.objective.setup(graph, sampler)
    steps_per_epoch = sampler.steps_per_epoch
    total = cfg.epochs * steps_per_epoch
    opt, sched = make_optimizer(cfg, model.encoder.parameters(), total)

    step, skipped, epoch_state = 0, 0, sampler.state_dict()
    if resume and (run / "checkpoint.pt").exists():
        state = load_checkpoint(run)
        model.encoder.load_state_dict(state["encoder"])
        model.objective.load_state_dict(state["objective"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, skipped, epoch_state = state["step"], state["skipped"], state["epoch_sampler"]
        log.info("resumed from step %d", step)
    elif not resume:
        (run / "metrics.jsonl").unlink(missing_ok=True)

    def checkpoint(at_step: int, sampler_state: dict) -> None:
        save_checkpoint(run, {
            "encoder": model.encoder.state_dict(), "objective": model.objective.state_dict(),
            "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": at_step,
            "skipped": skipped, "epoch_sampler": sampler_state, "config": cfg.to_dict(),
        })

    bar = tqdm(total=total, initial=step, disable=not progress, desc="train", dynamic_ncols=True)
    metrics_file = open(run / "metrics.jsonl", "a")
    try:
        while step < total:
            epoch, offset = divmod(step, steps_per_epoch)
            sampler.load_state_dict(epoch_state)
            batches = sampler.epoch()
            for i, batch in enumerate(batches):
                if i < offset:
                    continue
                torch.manual_seed(_step_seed(cfg.seed, step))
                started = time.perf_counter()
                model.encoder.train()
                model.objective.train()
                if batch.op_index.shape[1] == 0 and cfg.objective == "neuralef":
                    skipped += 1
                    record = {"step": step, "skipped_batch": True, "skipped_total": skipped}
                else:
                    psi = model.encoder(batch)
                    loss, record = model.objective.loss(batch, psi)
                    if not torch.isfinite(loss):
                        raise TrainingDivergedError(
                            f"non-finite loss at step {step}; the last good checkpoint in '{run}' is kept "
                            f"(try a smaller --lr)")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
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
    return model


def _step_seed(seed: int, step: int) -> int:
    return (seed * 1_000_003 + step * 7919 + 17) % (2 ** 63 - 1)


def _short(values) -> str:
    if not values:
        return ""
    return ",".join(f"{v:.3f}" for v in values[:4]) + (",..." if len(values) > 4 else "")


def load_model(run_dir: str | Path, graph: Graph) -> Model:
    """Rebuild a trained model from its run folder (config.json + checkpoint.pt)."""
    cfg = TrainConfig.load(run_dir)
    state = load_checkpoint(run_dir)
    model = build_model(cfg, graph)
    try:
        model.encoder.load_state_dict(state["encoder"])
        model.objective.load_state_dict(state["objective"], strict=False)
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(
            f"checkpoint in '{run_dir}' does not fit dataset '{graph.name}' "
            f"({graph.num_nodes} nodes, {graph.num_features} features): {str(exc).splitlines()[0]}"
        ) from exc
    return model
