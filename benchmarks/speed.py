"""Speed and memory of training and export on a synthetic graph at ogbn-products scale.

    python benchmarks/speed.py                                  # sbm:preset=products (2.45M nodes)
    python benchmarks/speed.py --nodes 100000 --steps 20 --json benchmarks/results/speed_100000.json

The results files in benchmarks/results/ record the command that made them (``command`` in
``speed_<nodes>.json``, first lines of ``speed_<nodes>.md``), e.g.

    python benchmarks/speed.py --nodes 100000 --steps 10 --json benchmarks/results/speed_100000.json \
        --quiet --sampled-steps 3
    python benchmarks/speed.py --steps 20 --sampled-steps 3 --export-encoders mlp \
        --json benchmarks/results/speed_2449029.json
    python benchmarks/speed.py --nodes 1000000 --steps 10 --objectives neuralef --neuralef-estimators running \
        bank --export-encoders --json benchmarks/results/speed_1000000_bank.json \
        --md benchmarks/results/speed_1000000_bank.md --quiet
    python benchmarks/speed.py --nodes 100000 --steps 20 --objectives neuralef --neuralef-estimators targets \
        bank --skip-eigsh --export-encoders --json benchmarks/results/speed_100000_targets.json \
        --md benchmarks/results/speed_100000_targets.md --quiet

One process, stages run one after another (graph build, loader set-up, the training steps of
each objective x encoder, a plain supervised GraphSAGE, export, BASiS set-up with its exact
K=64 eigsh). Settings shared by every stage: batch size 1024, fanouts 10,5, hidden 256,
K = dim 64, 2 layers, Adam (lr 0.01), the library's BatchSampler (PyG NeighborLoader).

Epoch time is ESTIMATED: ``--warmup`` steps are run and discarded, the next ``--steps`` steps
are timed one by one (sampling, forward, loss, backward, optimizer step), and the epoch time
is (mean seconds per timed step) x ``steps_per_epoch``. A full epoch at products scale is
2,392 steps, far too long to run for every configuration on 2 cores. The machine is shared
with other jobs, so the runs that share a loader are INTERLEAVED: every round draws one batch
and each run takes a step on it in turn (rotating order); all runs see the same load and the
same batches, which makes the ratios (spectral / supervised) trustworthy even when the
absolute times drift. Process CPU seconds per step are recorded as well (less sensitive to
other jobs than wall time). Phase A: NeuralEF x {mlp, sage} and supervised GraphSAGE on the
plain loader, once per NeuralEF estimator (``--neuralef-estimators``; default ``running`` then
``bank``, whose statistics need one product with the whole-graph kernel per step; ``targets``,
the library's default since commit 38ca7c3 (2026-11-22), refreshes its targets in the first warm-up step and
then times regression steps: its refreshes, once per epoch, are timed by
``benchmarks/bank_update.py``), each time with its own supervised reference. Phase B: BASiS x {mlp, sage} and
supervised GraphSAGE again on BASiS's loader (256 anchors prepended to every batch). Every
spectral run is compared with the supervised run that saw the same batches at the same time.

Memory: the peak resident set size of the process, ``getrusage(RUSAGE_SELF).ru_maxrss``. Before
each stage the kernel's high-water mark is reset (``echo 5 > /proc/self/clear_refs``, which
also resets ``ru_maxrss``), so every stage gets its own peak (which includes the graph and
whatever the stage keeps alive, e.g. the loader); ``peak_rss_gib`` is the largest of them.
Each run's own peak comes from ``--memory-steps`` steps of that run alone ("memory <run>").

Bounded stages (the exact eigsh, BASiS's global set-up, the sage export) run under a SIGALRM
time limit (``--eigsh-timeout``, ``--export-timeout``); scipy's eigsh drives ARPACK from a
Python loop, so the alarm stops it cleanly, and a stage that runs out is reported as
"did not finish within X s". BASiS uses ``batch_operator='global'`` when its exact solve
finishes within the bound (``--basis-operator auto``), otherwise ``'sampled'``; the figures
say which.

Writes a readable table to stdout, a Markdown table to ``benchmarks/results/speed_<nodes>.md``
(``--md``) and, with ``--json PATH``, every figure including the per-step times.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shlex
import statistics
import sys
import time
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F

import graph_eigen.objectives.basis as basis_module
from graph_eigen.config import TrainConfig
from graph_eigen.data.synthetic import load_sbm
from graph_eigen.eigsolve import exact_eigenpairs
from harness import StageTimeout, current_rss_gib, environment, peak_rss_gib, reset_peak_rss, time_limit
from graph_eigen.embed import embed_graph
from graph_eigen.encoders import EncoderConfig, build_encoder
from graph_eigen.model import Model
from graph_eigen.objectives import build_objective
from graph_eigen.sampling import BatchSampler

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

BATCH_SIZE = 1024
FANOUTS = [10, 5]
HIDDEN = 256
DIM = 64
LAYERS = 2
LR = 0.01
OBJECTIVES = ("neuralef", "basis")
ENCODERS = ("mlp", "sage")
PARTS = ("sample", "forward", "loss", "backward", "optimizer")

EPOCH_METHOD = (
    "estimated: (mean wall-clock seconds per timed step, sampling included) x steps_per_epoch; "
    "{warmup} warm-up steps discarded, then {steps} steps timed one by one, the runs that share a "
    "loader interleaved round by round on the same batches"
)

log = logging.getLogger("speed")


# ---------------------------------------------------------------------- stages
class Recorder:
    """Runs named stages, each with its own wall time and peak RSS."""

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


# ---------------------------------------------------------------------- steps
def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


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


def spectral_step(encoder, objective, opt):
    """One training step as in graph_eigen.train_loop.TrainLoop (without its re-seeding, skipped batches and schedule)."""

    def loss_of(batch, psi):
        loss, _ = objective.loss(batch, psi)
        if not torch.isfinite(loss):
            raise RuntimeError("non-finite loss")
        return loss

    def step(batch) -> dict:
        encoder.train()
        objective.train()
        return timed_step(batch, encoder, loss_of, opt)

    return step


def supervised_step(net, labels, opt):
    """Plain supervised GraphSAGE: cross-entropy on the seeds' labels."""

    def loss_of(batch, out):
        b = batch.num_seeds
        return F.cross_entropy(out[:b], labels[batch.n_id[:b]])

    def step(batch) -> dict:
        net.train()
        return timed_step(batch, lambda bt: net(bt.x, bt.edge_index), loss_of, opt)

    return step


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


def memory_probe(rec, name: str, sampler: BatchSampler, step, steps: int) -> None:
    """A few steps of one run alone, so that the stage's peak RSS is that run's."""
    if steps <= 0:
        return
    with rec.stage(f"memory {name}") as info:
        for batch in islice(sampler.batches(), steps):
            step(batch)
        info["steps"] = steps


def make_sampler(graph, anchors=None) -> BatchSampler:
    sampler = BatchSampler(graph, BATCH_SIZE, FANOUTS, seed=0, anchors=anchors, with_features=True)
    sampler.sample(sampler.pool[:BATCH_SIZE])  # builds the NeighborLoader (CSC copy of the graph) now
    return sampler


def encoder_config(name: str) -> EncoderConfig:
    return EncoderConfig(name=name, hidden=HIDDEN, layers=LAYERS)


def spectral_run(name: str, graph, objective):
    encoder = build_encoder(name, graph, DIM, encoder_config(name), seed=0)
    opt = torch.optim.Adam(encoder.parameters(), lr=LR)
    return encoder, spectral_step(encoder, objective, opt)


def supervised_run(graph):
    from torch_geometric.nn import GraphSAGE

    torch.manual_seed(0)
    net = GraphSAGE(graph.num_features, HIDDEN, LAYERS, out_channels=graph.num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    return supervised_step(net, graph.y, opt)


# ---------------------------------------------------------------------- the benchmark
def run(args) -> dict:
    rec = Recorder(None if args.json is None else args.json.with_suffix(".partial.json"))
    objectives = [o for o in OBJECTIVES if o in args.objectives]
    spec = "preset=products,seed=0" + (f",n={args.nodes}" if args.nodes else "")
    result: dict = {
        "command": "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "dataset": f"sbm:{spec}",
        "settings": {"batch_size": BATCH_SIZE, "fanouts": FANOUTS, "hidden": HIDDEN, "dim": DIM,
                     "layers": LAYERS, "optimizer": "adam", "lr": LR, "steps": args.steps,
                     "warmup": args.warmup, "sampled_steps": args.sampled_steps,
                     "memory_steps": args.memory_steps,
                     "eigsh_timeout_s": args.eigsh_timeout, "export_timeout_s": args.export_timeout},
        "epoch_seconds_method": EPOCH_METHOD.format(warmup=args.warmup, steps=args.steps),
        "environment": environment(),
        "peak_rss_method": ("getrusage(RUSAGE_SELF).ru_maxrss per stage, high-water mark reset before each "
                            "stage via /proc/self/clear_refs" if rec.peak_resets else
                            "getrusage(RUSAGE_SELF).ru_maxrss, cumulative (could not reset per stage)"),
    }
    rec.partial = result

    # -- graph
    with rec.stage("build") as info:
        graph = load_sbm(spec)
    result["graph_build_seconds"] = info["seconds"]
    result["graph"] = {"nodes": graph.num_nodes, "edges": graph.num_edges, "directed_edges": 2 * graph.num_edges,
                       "features": graph.num_features, "classes": graph.num_classes}
    log.info("graph: %d nodes, %d edges", graph.num_nodes, graph.num_edges)
    timings: dict[str, dict] = {}
    result["steps"] = timings

    # -- phase A: NeuralEF (mlp, sage) and supervised GraphSAGE on one loader (no anchors), one
    #    sub-phase per NeuralEF estimator ('running': seed statistics; 'bank': whole-graph
    #    statistics from a memory bank, one sparse product with the whole kernel per step), each
    #    with its own supervised reference on the same batches
    references: dict[str, str] = {}  # run -> the supervised run that saw the same batches
    with rec.stage("loader") as info:
        sampler = make_sampler(graph)
    encoders, objective_nef = {}, None
    estimators = list(args.neuralef_estimators) if "neuralef" in objectives else []
    for i, est in enumerate(estimators or [None]):
        prefix = "neuralef" if est == "running" else f"neuralef-{est}"
        sup_name = "supervised/sage" if i == 0 else f"supervised/sage@{prefix}"
        runs = {}
        if est is not None:
            with rec.stage(f"setup {prefix}") as info:
                objective = build_objective("neuralef", DIM, estimator=est)
                objective.setup(graph, sampler)
            result.setdefault("neuralef_setup_seconds", {})[prefix] = info["seconds"]
            for enc_name in args.encoders:
                encoder, runs[f"{prefix}/{enc_name}"] = spectral_run(enc_name, graph, objective)
                if i == 0:  # the first estimator's encoders are exported
                    encoders[enc_name], objective_nef = encoder, objective
        if not args.skip_supervised:
            runs[sup_name] = supervised_run(graph)
        if runs:
            with rec.stage("train (interleaved): " + ", ".join(runs)) as info:
                timings.update(time_rounds(sampler, runs, args.warmup, args.steps))
            for name, step in runs.items():
                references[name] = sup_name
                if not name.startswith("supervised"):
                    timings[name]["neuralef_estimator"] = est
                if i == 0 or not name.startswith("supervised"):
                    memory_probe(rec, name, sampler, step, args.memory_steps)
        del runs
        objective = None
    del sampler

    # -- export (the NeuralEF-trained encoders; mlp by row chunks, sage by layer-wise inference);
    #    the sage export runs last: it needs the most memory
    export: dict[str, dict] = {}
    result["export"] = export

    def run_export(enc_name: str) -> None:
        model = Model(TrainConfig(objective="neuralef", encoder=enc_name, dim=DIM, hidden=HIDDEN, layers=LAYERS),
                      encoders[enc_name], objective_nef)
        chunk = args.sage_export_chunk if enc_name == "sage" else None
        with rec.stage(f"export {enc_name}") as info:
            with time_limit(args.export_timeout):
                start = time.perf_counter()
                emb = embed_graph(model, graph, chunk=chunk)  # chunk: seeds per NeighborLoader batch (sage)
                seconds = time.perf_counter() - start
                export[enc_name] = {"seconds": seconds, "nodes_per_second": graph.num_nodes / seconds,
                                    "shape": list(emb.shape), "chunk": chunk or "library default (65536)"}
                del emb
        if info["status"] != "ok":
            export[enc_name] = {"seconds": None, "nodes_per_second": None, "status": info["status"]}

    for enc_name in args.export_encoders:
        if enc_name in encoders and enc_name != "sage":
            run_export(enc_name)

    # -- phase B: BASiS (anchors in every batch); 'global' needs one exact K=64 solve in set-up
    eigsh = {"k": DIM, "seconds": None, "status": "not run"}
    basis_info: dict = {}
    if "basis" in objectives:
        with rec.stage("loader (basis, with anchors)"):
            anchors = build_objective("basis", DIM).anchor_nodes(graph)
            sampler = make_sampler(graph, anchors)
        operator = args.basis_operator
        objective = None
        if operator in ("auto", "global"):
            solve_seconds: list[float] = []

            def timed_solve(*a, **kw):  # the public exact_eigenpairs(graph, 64) that BASiS.setup calls, timed
                start = time.perf_counter()
                try:
                    return exact_eigenpairs(*a, **kw)
                finally:
                    solve_seconds.append(time.perf_counter() - start)

            # the one hook into the library: BASiS.setup's call of exact_eigenpairs is wrapped to
            # time the solve alone (the library has no timing of its own for it)
            patched = getattr(basis_module, "exact_eigenpairs", None) is exact_eigenpairs
            if patched:
                basis_module.exact_eigenpairs = timed_solve
            try:
                with rec.stage("basis setup (global: exact eigsh K=64)") as info:
                    with time_limit(args.eigsh_timeout):
                        objective = build_objective("basis", DIM, batch_operator="global")
                        objective.setup(graph, sampler)
            finally:
                if patched:
                    basis_module.exact_eigenpairs = exact_eigenpairs
            if info["status"] == "ok" and solve_seconds:
                eigsh.update(seconds=solve_seconds[0], status="finished", where="BASiS.setup (global)")
                basis_info.update(batch_operator="global", setup_seconds=info["seconds"])
                operator = "global"
            elif info["status"] == "ok":  # the solve could not be timed alone: the whole set-up
                eigsh.update(seconds=info["seconds"], status="finished", where="BASiS.setup (global), whole set-up")
                basis_info.update(batch_operator="global", setup_seconds=info["seconds"])
                operator = "global"
            else:
                eigsh.update(status=f"did not finish within {args.eigsh_timeout:g} s", where="BASiS.setup (global)")
                basis_info["global_setup_status"] = info["status"]
                objective = None
                gc.collect()
                if operator == "global":
                    log.warning("BASiS global set-up did not finish; BASiS not timed (use --basis-operator auto)")
                operator = "sampled" if operator == "auto" else None
        if operator in ("sampled", "knn"):
            with rec.stage(f"basis setup ({operator})") as info:
                objective = build_objective("basis", DIM, batch_operator=operator)
                objective.setup(graph, sampler)
            basis_info.update(batch_operator=operator, setup_seconds=info["seconds"])
        if objective is not None:
            steps = args.steps if operator == "global" else (args.sampled_steps or args.steps)
            warmup = args.warmup if operator == "global" else min(args.warmup, 1)
            runs = {}
            for enc_name in args.encoders:
                runs[f"basis/{enc_name}"] = spectral_run(enc_name, graph, objective)[1]
            if not args.skip_supervised:
                runs["supervised/sage+anchors"] = supervised_run(graph)
            for name in runs:
                references[name] = "supervised/sage+anchors"
            with rec.stage("train (interleaved): " + ", ".join(runs)) as info:
                phase_b = time_rounds(sampler, runs, warmup, steps)
            for name, step in runs.items():
                if name.startswith("basis/"):
                    memory_probe(rec, name, sampler, step, args.memory_steps)
            for name in phase_b:
                phase_b[name]["batch_operator"] = operator
            timings.update(phase_b)
            del runs
        del sampler, objective
    elif not args.skip_eigsh:
        with rec.stage("exact eigsh K=64") as info:
            with time_limit(args.eigsh_timeout):
                exact_eigenpairs(graph, DIM)
        eigsh.update(seconds=info["seconds"] if info["status"] == "ok" else None,
                     status="finished" if info["status"] == "ok" else f"did not finish within {args.eigsh_timeout:g} s",
                     where="exact_eigenpairs(graph, 64)")

    if "sage" in args.export_encoders and "sage" in encoders:
        run_export("sage")
    encoders.clear()

    # -- the figures
    spectral = {k: v for k, v in timings.items() if not k.startswith("supervised")}
    result["epoch_seconds"] = {k: v["epoch_seconds"] for k, v in spectral.items()}
    result["epoch_cpu_seconds"] = {k: v["epoch_cpu_seconds"] for k, v in spectral.items()}
    result["seconds_per_step"] = {k: v["seconds_per_step_mean"] for k, v in spectral.items()}
    result["steps_per_epoch"] = {k: v["steps_per_epoch"] for k, v in timings.items()}
    sup = timings.get("supervised/sage")
    if sup is not None:
        result["supervised_sage_epoch_seconds"] = sup["epoch_seconds"]
        result["supervised_sage_epoch_cpu_seconds"] = sup["epoch_cpu_seconds"]
        result["supervised_sage_seconds_per_step"] = sup["seconds_per_step_mean"]
        result["overhead_vs_supervised_sage"] = {
            k: v["epoch_seconds"] / sup["epoch_seconds"] for k, v in spectral.items()}
        result["overhead_vs_supervised_sage_cpu"] = {
            k: v["epoch_cpu_seconds"] / sup["epoch_cpu_seconds"] for k, v in spectral.items()}
    # every run against supervised GraphSAGE on the very same batches, timed interleaved with it
    # (for BASiS: the anchored batches); robust to the load of the shared machine
    result["overhead_vs_supervised_sage_same_batches"] = {
        k: v["seconds_per_step_mean"] / timings[references[k]]["seconds_per_step_mean"]
        for k, v in spectral.items() if references.get(k) in timings}
    result["basis_batch_operator"] = basis_info.get("batch_operator")
    result["basis_setup_seconds"] = basis_info.get("setup_seconds")
    if "global_setup_status" in basis_info:
        result["basis_global_setup_status"] = basis_info["global_setup_status"]
    result["eigsh_k64_seconds"] = eigsh["seconds"]
    result["eigsh_k64"] = eigsh
    result["export_nodes_per_second"] = export.get("mlp", {}).get("nodes_per_second")
    result["peak_rss_gib"] = max(s["peak_rss_gib"] for s in rec.stages.values())
    result["peak_rss_stage"] = max(rec.stages, key=lambda s: rec.stages[s]["peak_rss_gib"])
    result["peak_rss_gib_by_run"] = {name[len("memory "):]: s["peak_rss_gib"] for name, s in rec.stages.items()
                                     if name.startswith("memory ")}
    result["stages"] = rec.stages
    result["steps"] = timings
    result["targets"] = targets(result)
    result["environment"]["loadavg_end"] = os.getloadavg()
    return result


def targets(r: dict) -> dict:
    out = {}
    for key, ratio in r.get("overhead_vs_supervised_sage_same_batches", {}).items():
        out[f"overhead {key} <= 1.3x (vs supervised on the same batches)"] = {"value": round(ratio, 3),
                                                                              "met": ratio <= 1.3}
    for key, ratio in r.get("overhead_vs_supervised_sage", {}).items():
        if not key.startswith("neuralef/"):  # identical to the same-batch figure for phase A's runs
            out[f"overhead {key} <= 1.3x (vs phase A's supervised epoch)"] = {"value": round(ratio, 3),
                                                                               "met": ratio <= 1.3}
    out["peak memory <= 12 GiB"] = {"value": r["peak_rss_gib"], "met": r["peak_rss_gib"] <= 12.0}
    nps = r.get("export_nodes_per_second")
    if nps is not None:
        out["export mlp >= 50,000 nodes/s"] = {"value": round(nps), "met": nps >= 50_000}
    return out


# ---------------------------------------------------------------------- reports
def _fmt(v, unit: str = "", digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}{unit}"
    return f"{v:,}{unit}"


def rows(r: dict) -> list[tuple[str, str]]:
    g = r["graph"]
    out = [
        ("dataset", r["dataset"]),
        ("graph", f"{g['nodes']:,} nodes, {g['edges']:,} undirected edges, {g['features']} features, "
                  f"{g['classes']} classes"),
        ("graph build", _fmt(r["graph_build_seconds"], " s", 1)),
    ]
    sup = r.get("supervised_sage_seconds_per_step")
    for key, epoch in r["epoch_seconds"].items():
        st = r["steps"][key]
        ratio = r.get("overhead_vs_supervised_sage", {}).get(key)
        cpu = r.get("overhead_vs_supervised_sage_cpu", {}).get(key)
        same = r.get("overhead_vs_supervised_sage_same_batches", {}).get(key)
        extra = f", operator {st['batch_operator']}" if "batch_operator" in st else ""
        if same is not None and not key.startswith("neuralef/"):
            extra += f"; {same:.2f}x of supervised on the same batches"
        out.append((f"epoch {key}", f"{_fmt(epoch, ' s', 1)} ({st['seconds_per_step_mean']:.3f} s/step x "
                                     f"{st['steps_per_epoch']:,} steps; {_fmt(ratio, 'x')} of supervised, "
                                     f"{_fmt(cpu, 'x')} in CPU time{extra})"))
    if sup is not None:
        st = r["steps"]["supervised/sage"]
        out.append(("epoch supervised GraphSAGE", f"{_fmt(r['supervised_sage_epoch_seconds'], ' s', 1)} "
                                                  f"({sup:.3f} s/step x {st['steps_per_epoch']:,} steps)"))
    for prefix, sec in r.get("neuralef_setup_seconds", {}).items():
        out.append((f"{prefix} set-up", _fmt(sec, " s", 1)))
    if r.get("basis_batch_operator"):
        out.append(("BASiS set-up", f"{_fmt(r['basis_setup_seconds'], ' s', 1)} (operator "
                                     f"{r['basis_batch_operator']})"))
    e = r["eigsh_k64"]
    out.append(("exact eigsh K=64", _fmt(e["seconds"], " s", 1) if e["seconds"] is not None else e["status"]))
    for enc, ex in r["export"].items():
        val = (f"{ex['nodes_per_second']:,.0f} nodes/s ({ex['seconds']:.1f} s, chunk {ex.get('chunk')})"
               if ex.get("nodes_per_second") else ex.get("status", "-"))
        out.append((f"export {enc}", val))
    out.append(("peak RSS", f"{r['peak_rss_gib']:.2f} GiB (stage: {r['peak_rss_stage']})"))
    for run_name, gib in r.get("peak_rss_gib_by_run", {}).items():
        out.append((f"peak RSS {run_name}", f"{gib:.2f} GiB"))
    return out


def stage_rows(r: dict) -> list[tuple[str, str, str, str]]:
    return [(name, _fmt(s["seconds"], "", 1), _fmt(s["peak_rss_gib"]), s["status"]) for name, s in r["stages"].items()]


def breakdown_rows(r: dict) -> list[tuple]:
    out = []
    for key, st in r["steps"].items():
        b = st["breakdown_seconds_per_step"]
        out.append((key, *(f"{b[p] * 1000:.0f}" for p in PARTS), f"{st['seconds_per_step_mean'] * 1000:.0f}",
                    f"{st['seconds_per_step_median'] * 1000:.0f}", f"{st['cpu_seconds_per_step_mean'] * 1000:.0f}",
                    f"{st['batch_nodes_mean']:,.0f}"))
    return out


BREAKDOWN_HEAD = ("run", "sample ms", "forward ms", "loss ms", "backward ms", "optim ms", "step ms (mean)",
                  "step ms (median)", "CPU ms", "batch nodes")


def print_report(r: dict) -> None:
    w = max(len(k) for k, _ in rows(r))
    print()
    for k, v in rows(r):
        print(f"{k:<{w}}  {v}")
    print(f"\nepoch time: {r['epoch_seconds_method']}\n")
    print(_text_table(BREAKDOWN_HEAD, breakdown_rows(r)))
    print()
    print(_text_table(("stage", "seconds", "peak RSS GiB", "status"), stage_rows(r)))
    print("\ntargets:")
    for k, t in r["targets"].items():
        print(f"  {'met   ' if t['met'] else 'MISSED'}  {k}: {t['value']}")


def _text_table(head, body) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(str(x).ljust(wd) for x, wd in zip(head, widths))]
    lines.append("  ".join("-" * wd for wd in widths))
    lines += ["  ".join(str(x).ljust(wd) for x, wd in zip(row, widths)) for row in body]
    return "\n".join(lines)


def _md_table(head, body) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(x).replace("|", "/") for x in row) + " |" for row in body]
    return "\n".join(lines)


def markdown(r: dict) -> str:
    env = r["environment"]
    parts = [
        f"# Speed benchmark: {r['graph']['nodes']:,} nodes",
        "",
        f"Command: `{r['command']}`",
        "",
        f"Date {env['date']}, commit `{env['git_commit']}`, torch {env['torch']} with {env['torch_threads']} threads "
        f"(BLAS {env.get('blas_threads')}), "
        f"{env['cpu_count']} CPUs, nice {env['nice']}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in env['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in env['loadavg_end'])} (the machine is shared; see "
        f"benchmarks/results/speed_notes.md on what load does to the figures).",
        "",
        f"Settings: batch size {BATCH_SIZE}, fanouts {FANOUTS}, hidden {HIDDEN}, K = {DIM}, {LAYERS} layers, "
        f"Adam lr {LR}. Epoch time is {r['epoch_seconds_method']}.",
        "",
        _md_table(("figure", "value"), rows(r)),
        "",
        "Per-step breakdown (means over the timed steps):",
        "",
        _md_table(BREAKDOWN_HEAD, breakdown_rows(r)),
        "",
        f"Stages ({r['peak_rss_method']}):",
        "",
        _md_table(("stage", "seconds", "peak RSS GiB", "status"), stage_rows(r)),
        "",
        "Targets:",
        "",
        _md_table(("target", "value", "met"), [(k, t["value"], "yes" if t["met"] else "**no**")
                                               for k, t in r["targets"].items()]),
        "",
    ]
    return "\n".join(parts)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=None, help="node count (default: products, 2,449,029)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="discarded warm-up steps per run (default 3)")
    parser.add_argument("--sampled-steps", type=int, default=None,
                        help="timed steps for BASiS with the 'sampled' operator (slow; default: --steps)")
    parser.add_argument("--memory-steps", type=int, default=2,
                        help="steps of each run alone to measure its own peak RSS (default 2; 0: skip)")
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES), choices=OBJECTIVES)
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS), choices=ENCODERS)
    parser.add_argument("--neuralef-estimators", nargs="+", default=["running", "bank"],
                        choices=("running", "bank", "batch", "targets"),
                        help="NeuralEF estimators to time, each in its own phase (default: running bank); "
                             "runs are named neuralef/<enc> (running) and neuralef-<estimator>/<enc>")
    parser.add_argument("--export-encoders", nargs="*", default=list(ENCODERS), choices=ENCODERS)
    parser.add_argument("--basis-operator", default="auto", choices=("auto", "global", "sampled", "knn"),
                        help="auto: global when its exact solve finishes within --eigsh-timeout, else sampled")
    parser.add_argument("--eigsh-timeout", type=float, default=600.0, help="bound on the exact K=64 eigsh (s)")
    parser.add_argument("--export-timeout", type=float, default=900.0, help="bound on each export (s)")
    parser.add_argument("--sage-export-chunk", type=int, default=None,
                        help="seeds per batch of the sage export (default: the library's 65,536; its memory "
                             "grows with it, ~10 GiB above the graph at 1e6 nodes)")
    parser.add_argument("--skip-supervised", action="store_true")
    parser.add_argument("--skip-eigsh", action="store_true", help="no standalone eigsh when BASiS is not run")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument("--md", type=Path, default=None,
                        help="Markdown table (default benchmarks/results/speed_<nodes>.md)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch and BLAS threads (default: torch's default, one per core)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    limits = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        limits = threadpool_limits(limits=args.threads, user_api="blas")  # noqa: F841 (kept for the run)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s")

    result = run(args)
    print_report(result)
    md = args.md or RESULTS / f"speed_{result['graph']['nodes']}.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown(result))
    print(f"\nwrote {md}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        args.json.with_suffix(".partial.json").unlink(missing_ok=True)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
