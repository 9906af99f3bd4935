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
(``--md``) and, with ``--json PATH``, every figure including the per-step times. The runs, their
timed steps and the stages come from ``benchmarks/harness/training.py``, the figures and reports
from ``benchmarks/harness/speed_report.py``.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from graph_eigen.config import TrainConfig
from graph_eigen.data.synthetic import load_sbm
from graph_eigen.model.build import Model
from graph_eigen.model.objectives import build_objective
from graph_eigen.spectral.eigsolve import exact_eigenpairs
from harness import time_limit
from harness.speed_report import add_figures, new_result, print_report, write_outputs
from harness.training import (DIM, HIDDEN, LAYERS, Recorder, export_stage, make_sampler, memory_probe, setup_basis,
                              spectral_run, supervised_run, time_rounds)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OBJECTIVES = ("neuralef", "basis")
ENCODERS = ("mlp", "sage")

log = logging.getLogger("speed")


def phase_a(args, rec: Recorder, graph, result: dict, timings: dict, references: dict):
    """NeuralEF (mlp, sage) and supervised GraphSAGE on one loader (no anchors), one sub-phase per
    NeuralEF estimator ('running': seed statistics; 'bank': whole-graph statistics from a memory
    bank, one sparse product with the whole kernel per step), each with its own supervised
    reference on the same batches. Returns the first estimator's encoders and objective (exported)."""
    with rec.stage("loader"):
        sampler = make_sampler(graph)
    encoders, objective_nef = {}, None
    estimators = list(args.neuralef_estimators) if "neuralef" in args.objectives else []
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
            with rec.stage("train (interleaved): " + ", ".join(runs)):
                timings.update(time_rounds(sampler, runs, args.warmup, args.steps))
            for name, step in runs.items():
                references[name] = sup_name
                if not name.startswith("supervised"):
                    timings[name]["neuralef_estimator"] = est
                if i == 0 or not name.startswith("supervised"):
                    memory_probe(rec, name, sampler, step, args.memory_steps)
        del runs
        objective = None
    return encoders, objective_nef


def phase_b(args, rec: Recorder, graph, timings: dict, references: dict, eigsh: dict, basis_info: dict) -> None:
    """BASiS (mlp, sage) and supervised GraphSAGE on BASiS's loader (anchors in every batch);
    'global' needs one exact K=64 solve in set-up."""
    with rec.stage("loader (basis, with anchors)"):
        sampler = make_sampler(graph, build_objective("basis", DIM).anchor_nodes(graph))
    objective, operator = setup_basis(rec, graph, sampler, args.basis_operator, args.eigsh_timeout, eigsh,
                                      basis_info)
    if objective is None:
        return
    steps = args.steps if operator == "global" else (args.sampled_steps or args.steps)
    warmup = args.warmup if operator == "global" else min(args.warmup, 1)
    runs = {f"basis/{enc_name}": spectral_run(enc_name, graph, objective)[1] for enc_name in args.encoders}
    if not args.skip_supervised:
        runs["supervised/sage+anchors"] = supervised_run(graph)
    for name in runs:
        references[name] = "supervised/sage+anchors"
    with rec.stage("train (interleaved): " + ", ".join(runs)):
        timed = time_rounds(sampler, runs, warmup, steps)
    for name, step in runs.items():
        if name.startswith("basis/"):
            memory_probe(rec, name, sampler, step, args.memory_steps)
    for name in timed:
        timed[name]["batch_operator"] = operator
    timings.update(timed)


def run(args) -> dict:
    rec = Recorder(None if args.json is None else args.json.with_suffix(".partial.json"))
    spec = "preset=products,seed=0" + (f",n={args.nodes}" if args.nodes else "")
    result = new_result(args, f"sbm:{spec}", rec.peak_resets)
    rec.partial = result
    with rec.stage("build") as info:
        graph = load_sbm(spec)
    result["graph_build_seconds"] = info["seconds"]
    result["graph"] = {"nodes": graph.num_nodes, "edges": graph.num_edges, "directed_edges": 2 * graph.num_edges,
                       "features": graph.num_features, "classes": graph.num_classes}
    log.info("graph: %d nodes, %d edges", graph.num_nodes, graph.num_edges)
    timings: dict[str, dict] = {}
    result["steps"] = timings
    references: dict[str, str] = {}  # run -> the supervised run that saw the same batches
    encoders, objective_nef = phase_a(args, rec, graph, result, timings, references)

    # export of the NeuralEF-trained encoders (mlp by row chunks, sage by layer-wise inference);
    # the sage export runs last: it needs the most memory
    export: dict[str, dict] = {}
    result["export"] = export

    def run_export(enc_name: str) -> None:
        model = Model(TrainConfig(objective="neuralef", encoder=enc_name, dim=DIM, hidden=HIDDEN, layers=LAYERS),
                      encoders[enc_name], objective_nef)
        chunk = args.sage_export_chunk if enc_name == "sage" else None
        export[enc_name] = export_stage(rec, model, graph, enc_name, chunk, args.export_timeout)

    for enc_name in args.export_encoders:
        if enc_name in encoders and enc_name != "sage":
            run_export(enc_name)
    eigsh = {"k": DIM, "seconds": None, "status": "not run"}
    basis_info: dict = {}
    if "basis" in args.objectives:
        phase_b(args, rec, graph, timings, references, eigsh, basis_info)
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
    add_figures(result, timings, references, basis_info, eigsh, export, rec.stages)
    return result


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
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(limits=args.threads, user_api="blas")  # in force until the process ends
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s")

    result = run(args)
    print_report(result)
    write_outputs(result, args.md or RESULTS / f"speed_{result['graph']['nodes']}.md", args.json)
    return result


if __name__ == "__main__":
    main()
