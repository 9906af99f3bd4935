"""Training steps as the speed benchmarks time them: the shared settings, the runs (a spectral
objective with an encoder, or plain supervised GraphSAGE), steps timed phase by phase, runs
interleaved round by round on the same batches, and stages with their own time and peak memory.

Used by ``speed.py`` and ``profile_step.py``; every figure of theirs comes from here or from the
library's public API (nothing private of graph_eigen is called).
"""
from __future__ import annotations

import gc
import json
import logging
import statistics
import time
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F

from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.encoders import EncoderConfig, build_encoder
from graph_eigen.model.objectives.basis import BASiS
from harness import StageTimeout, current_rss_gib, peak_rss_gib, reset_peak_rss, time_limit

# settings shared by every run: batch size, fanouts, widths, K, optimizer
BATCH_SIZE = 1024
FANOUTS = [10, 5]
HIDDEN = 256
DIM = 64
LAYERS = 2
LR = 0.01
PARTS = ("sample", "forward", "loss", "backward", "optimizer")

log = logging.getLogger("speed")


# ---------------------------------------------------------------------- stages
class Recorder:
    """Runs named stages, each with its own wall time and peak RSS (reset before each stage)."""

    def __init__(self, partial_path: Path | None = None) -> None:
        self.stages: dict[str, dict] = {}
        self.peak_resets = reset_peak_rss()
        self.partial_path = partial_path  # what is known so far is written here after every stage
        self.partial: dict = {}

    @contextmanager
    def stage(self, name: str):
        gc.collect()
        reset_peak_rss()
        info: dict = {"rss_start_gib": round(current_rss_gib(), 3)}
        log.info("stage %s (RSS %.2f GiB)", name, info["rss_start_gib"])
        start = time.perf_counter()
        try:
            yield info
        except StageTimeout as exc:
            info["status"] = str(exc)
            log.warning("stage %s: %s", name, exc)
        finally:
            info["seconds"] = round(time.perf_counter() - start, 3)
            info["peak_rss_gib"] = round(peak_rss_gib(), 3)
            info["rss_end_gib"] = round(current_rss_gib(), 3)
            info.setdefault("status", "ok")
            self.stages[name] = info
            if self.partial_path is not None:
                self.partial_path.parent.mkdir(parents=True, exist_ok=True)
                self.partial_path.write_text(json.dumps({**self.partial, "complete": False, "stages": self.stages},
                                                        indent=1, default=str) + "\n")
            log.info("stage %s: %.1f s, peak RSS %.2f GiB, %s", name, info["seconds"],
                     info["peak_rss_gib"], info["status"])


# ---------------------------------------------------------------------- runs and their steps
def make_sampler(graph, anchors=None) -> BatchSampler:
    sampler = BatchSampler(graph, BATCH_SIZE, FANOUTS, seed=0, anchors=anchors, with_features=True)
    sampler.sample(sampler.pool[:BATCH_SIZE])  # builds the NeighborLoader (CSC copy of the graph) now
    return sampler


def encoder_config(name: str) -> EncoderConfig:
    return EncoderConfig(name=name, hidden=HIDDEN, layers=LAYERS)


def timed_step(batch, forward, loss_of, opt) -> dict:
    """Forward, loss, backward and optimizer step on ``batch``; the seconds of each phase."""
    t0 = time.perf_counter()
    out = forward(batch)
    t1 = time.perf_counter()
    loss = loss_of(batch, out)
    t2 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    t3 = time.perf_counter()
    opt.step()
    t4 = time.perf_counter()
    return {"forward": t1 - t0, "loss": t2 - t1, "backward": t3 - t2, "optimizer": t4 - t3}


def spectral_run(name: str, graph, objective):
    """An encoder and its training step as in graph_eigen.training.loop.TrainLoop (without its
    re-seeding, skipped batches and schedule): forward, loss, backward, Adam."""
    encoder = build_encoder(name, graph, DIM, encoder_config(name), seed=0)
    opt = torch.optim.Adam(encoder.parameters(), lr=LR)

    def loss_of(batch, psi):
        loss, _ = objective.loss(batch, psi)
        if not torch.isfinite(loss):
            raise RuntimeError("non-finite loss")
        return loss

    def step(batch) -> dict:
        encoder.train()
        objective.train()
        return timed_step(batch, encoder, loss_of, opt)

    return encoder, step


def supervised_run(graph):
    """Plain supervised GraphSAGE: cross-entropy on the seeds' labels; its training step."""
    from torch_geometric.nn import GraphSAGE

    torch.manual_seed(0)
    net = GraphSAGE(graph.num_features, HIDDEN, LAYERS, out_channels=graph.num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def loss_of(batch, out):
        b = batch.num_seeds
        return F.cross_entropy(out[:b], graph.y[batch.n_id[:b]])

    def step(batch) -> dict:
        net.train()
        return timed_step(batch, lambda bt: net(bt.x, bt.edge_index), loss_of, opt)

    return step


class TimedBASiS(BASiS):
    """BASiS whose whole-graph solve (the exact eigsh of the ``global`` operator, run by
    ``setup``) is timed alone: ``solve_seconds`` (None until it ran)."""

    solve_seconds: float | None = None

    def whole_graph_solve(self, graph):
        start = time.perf_counter()
        try:
            return super().whole_graph_solve(graph)
        finally:
            self.solve_seconds = time.perf_counter() - start


# ---------------------------------------------------------------------- timing
def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def time_rounds(sampler: BatchSampler, runs: dict, warmup: int, steps: int, seed: int = 0) -> dict:
    """Interleaved timing: each round draws ONE batch and gives it to every run in turn.

    The machine is shared, so the load changes over minutes; interleaving exposes every run to
    the same load, and all runs see identical batches (same loader cost, same batch sizes).
    The order of the runs rotates from round to round. A run's step time is the round's
    sampling time plus its own forward, loss, backward and optimizer step. The batch's cached
    kernel is dropped before each run, so every run pays for building it, as in training.
    """
    torch.manual_seed(seed)
    stream = sampler.batches()
    names = list(runs)
    records: dict[str, list] = {n: [] for n in names}
    for i in range(warmup + steps):
        (w0, c0) = _clock()
        batch = next(stream)
        (w1, c1) = _clock()
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            fresh = batch.without_kernel()
            (w2, c2) = _clock()
            parts = runs[name](fresh)
            (w3, c3) = _clock()
            if i >= warmup:
                records[name].append({
                    "step": i - warmup, "sample": w1 - w0, **parts, "total": (w1 - w0) + (w3 - w2),
                    "cpu": (c1 - c0) + (c3 - c2), "batch_nodes": batch.num_nodes,
                    "batch_edges": int(batch.edge_index.shape[1]),
                })
        if (i + 1) % 10 == 0:
            log.info("  round %d/%d", i + 1, warmup + steps)
    return {n: summarize(records[n], sampler.steps_per_epoch, warmup) for n in names}


def summarize(records: list[dict], steps_per_epoch: int, warmup: int) -> dict:
    totals = [r["total"] for r in records]
    mean = statistics.fmean(totals)
    cpu = statistics.fmean(r["cpu"] for r in records)
    return {
        "steps_timed": len(records),
        "warmup_steps": warmup,
        "steps_per_epoch": steps_per_epoch,
        "seconds_per_step_mean": mean,
        "seconds_per_step_median": statistics.median(totals),
        "seconds_per_step_std": statistics.pstdev(totals),
        "cpu_seconds_per_step_mean": cpu,
        "epoch_seconds": mean * steps_per_epoch,
        "epoch_cpu_seconds": cpu * steps_per_epoch,
        "breakdown_seconds_per_step": {p: statistics.fmean(r[p] for r in records) for p in PARTS},
        "batch_nodes_mean": statistics.fmean(r["batch_nodes"] for r in records),
        "batch_edges_mean": statistics.fmean(r["batch_edges"] for r in records),
        "per_step": [{k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items()} for r in records],
    }


def cprofile_steps(step, sampler: BatchSampler, steps: int, top: int = 12) -> str:
    """cProfile of ``steps`` steps (sampling included) after one warm-up step: the ``top``
    functions by own time, as pstats prints them."""
    import cProfile
    import io
    import pstats

    stream = sampler.batches()
    step(next(stream))  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    for batch in islice(stream, steps):
        step(batch)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    return text[text.find("ncalls") - 3:]


def memory_probe(rec: Recorder, name: str, sampler: BatchSampler, step, steps: int) -> None:
    """A few steps of one run alone, so that the stage's peak RSS is that run's."""
    if steps <= 0:
        return
    with rec.stage(f"memory {name}") as info:
        for batch in islice(sampler.batches(), steps):
            step(batch)
        info["steps"] = steps


# ---------------------------------------------------------------------- stages shared by the speed runs
def export_stage(rec: Recorder, model, graph, name: str, chunk: int | None, timeout: float | None) -> dict:
    """``model.embed(graph)`` as the stage ``export <name>`` under a time limit: seconds, nodes/s."""
    with rec.stage(f"export {name}") as info:
        with time_limit(timeout):
            start = time.perf_counter()
            emb = model.embed(graph, chunk=chunk)  # chunk: seeds per NeighborLoader batch (sage)
            seconds = time.perf_counter() - start
            out = {"seconds": seconds, "nodes_per_second": graph.num_nodes / seconds,
                   "shape": list(emb.shape), "chunk": chunk or "library default (65536)"}
            del emb
    if info["status"] != "ok":
        out = {"seconds": None, "nodes_per_second": None, "status": info["status"]}
    return out


def setup_basis(rec: Recorder, graph, sampler, operator: str, timeout: float | None, eigsh: dict,
                basis_info: dict):
    """BASiS's set-up as stages: ``global`` (its exact K = DIM eigsh timed alone, under ``timeout``;
    ``auto`` falls back to ``sampled`` when it runs out), ``sampled`` or ``knn``. Fills ``eigsh``
    and ``basis_info``; returns the objective (None if not set up) and the operator used."""
    objective = None
    if operator in ("auto", "global"):
        with rec.stage("basis setup (global: exact eigsh K=64)") as info:
            with time_limit(timeout):
                objective = TimedBASiS(DIM, batch_operator="global")
                objective.setup(graph, sampler)
        if info["status"] == "ok":
            solve = objective.solve_seconds
            eigsh.update(seconds=info["seconds"] if solve is None else solve, status="finished",
                         where="BASiS.setup (global)" + (", whole set-up" if solve is None else ""))
            basis_info.update(batch_operator="global", setup_seconds=info["seconds"])
            operator = "global"
        else:
            eigsh.update(status=f"did not finish within {timeout:g} s", where="BASiS.setup (global)")
            basis_info["global_setup_status"] = info["status"]
            objective = None
            gc.collect()
            if operator == "global":
                log.warning("BASiS global set-up did not finish; BASiS not timed (use --basis-operator auto)")
            operator = "sampled" if operator == "auto" else None
    if operator in ("sampled", "knn"):
        with rec.stage(f"basis setup ({operator})") as info:
            objective = BASiS(DIM, batch_operator=operator)
            objective.setup(graph, sampler)
        basis_info.update(batch_operator=operator, setup_seconds=info["seconds"])
    return objective, operator
