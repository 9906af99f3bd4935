"""The in-memory training loop: batches, loss, backward and optimizer steps; no file I/O.

:class:`TrainLoop` trains a model on a graph as a configuration says. Its whole state (the
model's, the optimizer's, the schedule's, the step counters and the sampler's generator at the
start of the current epoch) is :meth:`TrainLoop.state_dict`, which the run-folder recorder
(graph_eigen.runs.recorder) saves as the checkpoint and loads on resume.

Every batch is a deterministic function of (seed, step): the sampler's permutation is drawn
from its own generator and the global RNG is re-seeded before each step, so a loop restored
from a state and run to the end ends with the same model as an uninterrupted one.
"""
from __future__ import annotations

import time
from typing import Iterable, Iterator, Optional

import torch

from graph_eigen.config import TrainConfig
from graph_eigen.device import resolve_device
from graph_eigen.errors import ConfigError, TrainingDivergedError
from graph_eigen.graph.core import Graph
from graph_eigen.model.build import Model, build_model
from graph_eigen.training.closed_form import fit_linear_encoder, uses_closed_form
from graph_eigen.training.distributed import DistContext, make_sampler, setup_model


class NonFiniteLoss(TrainingDivergedError):
    """The loss of step ``step`` is not finite (on some process); no parameter was updated."""

    def __init__(self, step: int) -> None:
        super().__init__(f"non-finite loss at step {step} (try a smaller `lr`)")
        self.step = step


def make_optimizer(cfg: TrainConfig, params: Iterable[torch.nn.Parameter], total_steps: int,
                   sparse: bool = False) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam or SGD with the configured schedule.

    ``sparse``: the parameters get sparse gradients (the table encoder), so Adam becomes
    ``torch.optim.SparseAdam``; neither it nor SGD supports weight decay on sparse gradients.
    """
    if sparse and cfg.weight_decay:
        raise ConfigError(f"`weight_decay` is not supported with the '{cfg.encoder}' encoder "
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


def check_fits(cfg: TrainConfig, graph: Graph) -> None:
    """Refuse a configuration that cannot train on ``graph`` (more columns than nodes)."""
    if cfg.dim >= graph.num_nodes:
        raise ConfigError(f"`dim` must be smaller than the number of nodes ({graph.num_nodes}), got {cfg.dim}")


class TrainLoop:
    """Training steps of ``model`` on ``graph`` with the options of ``cfg``.

    Set-up (in the constructor): the encoder's view of the graph (``encoder.prepare``), the
    sampler (this process's share of the batches with ``dist``), the objective's set-up with its
    :class:`~graph_eigen.model.objectives.base.ObjectiveContext`, the model on the configured device,
    the optimizer and schedule. :meth:`steps` then runs the remaining steps one at a time.
    """

    def __init__(self, cfg: TrainConfig, model: Model, graph: Graph, dist: Optional[DistContext] = None,
                 seed_nodes: Optional[torch.Tensor] = None) -> None:
        self.cfg, self.model = cfg, model
        self.dist = dist = dist or DistContext()  # one process: every dist hook is a no-op
        self.device = resolve_device(cfg.device)
        encoder, objective = model.encoder, model.objective
        self.graph = graph = encoder.prepare(graph)  # features projected once when --input-dim is set
        self.sampler = make_sampler(dist, graph, cfg.batch_size, cfg.fanouts, seed=cfg.seed,
                                    seed_nodes=seed_nodes,
                                    anchors=objective.anchor_nodes(graph),
                                    with_features=encoder.reads_features,
                                    with_neighbors=encoder.reads_neighbors or objective.needs_neighbors)
        setup_model(dist, model, graph, self.sampler, embed_all=lambda: encoder.embed_all(graph))
        encoder.to(self.device)  # the encoder, the batches and the objective's state live there
        objective.to(self.device)
        self.steps_per_epoch = self.sampler.steps_per_epoch
        self.total_steps = cfg.epochs * self.steps_per_epoch
        self.closed_form_record: Optional[dict] = None  # the fit, when it took no step
        if uses_closed_form(cfg):
            self.closed_form_record = fit_linear_encoder(model, graph)
            self.total_steps = 0
        self.optimizer, self.scheduler = make_optimizer(cfg, encoder.parameters(), self.total_steps,
                                                        sparse=getattr(encoder, "sparse", False))
        self.step = 0  # steps done
        self.skipped = 0  # batches skipped for want of kernel edges
        self.epoch_state = self.sampler.state_dict()  # the sampler at the start of the current epoch

    @classmethod
    def build(cls, cfg: TrainConfig, graph: Graph, dist: Optional[DistContext] = None,
              seed_nodes: Optional[torch.Tensor] = None) -> "TrainLoop":
        """A loop with a new model built from ``cfg`` (every option is checked first).
        ``seed_nodes``: the only nodes batches are seeded from (the ids of ``cfg.seed_nodes``,
        read by the caller); None: every node."""
        cfg.validate()
        check_fits(cfg, graph)
        return cls(cfg, build_model(cfg, graph), graph, dist, seed_nodes)

    @property
    def at_epoch_end(self) -> bool:
        """Whether the last step done ended an epoch."""
        return self.step % self.steps_per_epoch == 0

    def state_dict(self) -> dict:
        """Everything a resumed loop needs to continue bitwise as this one would."""
        return {"encoder": self.model.encoder.state_dict(), "objective": self.model.objective.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "step": self.step, "skipped": self.skipped, "epoch_sampler": self.epoch_state}

    def checkpoint_state(self) -> dict:
        """What a checkpoint holds: :meth:`state_dict` and the configuration."""
        return {**self.state_dict(), "config": self.cfg.to_dict()}

    def parameters_finite(self) -> bool:
        """Whether every floating-point tensor of the encoder's and the objective's state is finite."""
        tensors = list(self.model.encoder.state_dict().values()) + list(self.model.objective.state_dict().values())
        return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state`` (as :meth:`state_dict` gave it); raises RuntimeError, KeyError
        or ValueError for a state that does not fit."""
        self.model.encoder.load_state_dict(state["encoder"])
        self.model.objective.load_state_dict(state["objective"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.skipped, self.epoch_state = state["step"], state["skipped"], state["epoch_sampler"]

    def steps(self) -> Iterator[dict]:
        """Run the remaining steps; after each, yield its record (``self.step`` counts it)."""
        cfg, spe = self.cfg, self.steps_per_epoch
        while self.step < self.total_steps:
            epoch, offset = divmod(self.step, spe)
            self.sampler.load_state_dict(self.epoch_state)
            batches = _seeded(self.sampler.epoch(), cfg.seed, epoch * spe)
            for i, batch in enumerate(batches):
                if i < offset:  # drawn again (the same draws) up to where the state left off
                    continue
                record = self._step(batch, epoch)
                self.step += 1
                if i == spe - 1:
                    self.epoch_state = self.sampler.state_dict()
                yield record

    def _step(self, batch, epoch: int) -> dict:
        """One optimizer step on ``batch`` (or a skipped batch without kernel edges); its record."""
        model, dist, step = self.model, self.dist, self.step
        started = time.perf_counter()
        batch = batch.to(self.device)
        model.encoder.train()
        model.objective.train()
        if model.objective.needs_neighbors and dist.all_true(batch.op_index.shape[1] == 0):
            self.skipped += 1
            return {"step": step, "skipped_batch": True, "skipped_total": self.skipped}
        psi = model.encoder(batch)
        loss, record = model.objective.loss(batch, psi)
        if not dist.all_true(bool(torch.isfinite(loss))):
            raise NonFiniteLoss(step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        dist.average_gradients(model.encoder)  # the union batch's gradient (no-op in one process)
        self.optimizer.step()
        self.scheduler.step()
        record.update(step=step, epoch=epoch, lr=self.scheduler.get_last_lr()[0],
                      seconds=time.perf_counter() - started, skipped_total=self.skipped)
        return record


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
