"""Where a training step and the export spend their time: cProfile and A/B experiments.

    python benchmarks/profile_step.py --nodes 100000 --steps 10
    python benchmarks/profile_step.py --nodes 2449029 --only loader export --export-variants spmm

Evidence for the recommendations in the speed report; measures the library as it is and,
side by side, benchmark-local variants of the hot spots (nothing in graph_eigen is changed):

1. cProfile of ``--steps`` steps of each run (neuralef/mlp, neuralef/sage, basis/mlp,
   basis/sage, supervised/sage): the top functions by own time.
2. BASiS step (global operator, sage): as is; with numpy's BLAS limited to one thread
   (threadpoolctl); with the targets computed for the seed rows only; and with the alignment
   done in torch (seed rows only). Whole steps are timed: numpy's BLAS threads, still spinning
   after the loss, also slow down the torch backward that follows.
3. NeuralEF loss: the 'bank' estimator (the default until commit 38ca7c3, 2026-11-22; one product with the
   whole-graph kernel per step) against 'running', and the share of building the batch kernel
   (COO -> CSR).
4. sage export: ``GNNEncoder.embed_all`` (NeighborLoader with all neighbors, 65,536 seeds per
   batch, messages materialized per edge) against layer-wise full-graph inference by sparse
   CSR matmul over row chunks, projecting first when that shrinks the width (mean aggregation
   commutes with the linear map). Checks that both give the same embedding.
5. loader construction: ``BatchSampler``'s NeighborLoader over ``edge_index`` (PyG sorts the
   edges into CSC and keeps a sorted copy of the sources plus the permutation, 16 bytes per
   directed edge) against a NeighborLoader over a ``SparseTensor`` built from the CSR that the
   graph already has (``edge_index`` is symmetric and sorted by row, so its CSR is the CSC):
   time, memory kept, and whether the sampled subgraphs are the same.
6. eigsh K=64 tolerance: the library asks ARPACK for machine precision (tol=0), on the global
   kernel (BASiS 'global' set-up, ``exact_eigenpairs``) and on a batch kernel (BASiS 'sampled',
   every step); times at looser tolerances, with the eigenvalue error and the subspace agreement
   (smallest cosine of the principal angles) against the tightest solve that finished.

Writes ``benchmarks/results/profile_<nodes>.json`` (``--json``) and prints a report.
``profile_2449029.json`` came from

    python benchmarks/profile_step.py --nodes 2449029 --only loader export --export-variants spmm \
        --json benchmarks/results/profile_2449029.json

The runs are set up as in ``benchmarks/speed.py`` (same batch size, fanouts, widths, optimizer)
by the same ``benchmarks/harness/training.py``; the variants live in ``benchmarks/harness/variants.py``.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import time
from itertools import islice
from pathlib import Path

import torch

from graph_eigen.data.synthetic import load_sbm
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.encoders import build_encoder
from graph_eigen.model.objectives import build_objective
from harness import StageTimeout, current_rss_gib, environment, peak_rss_gib, reset_peak_rss, time_limit
from harness.report import command_line
from harness.training import (BATCH_SIZE, DIM, LR, cprofile_steps, encoder_config, make_sampler, spectral_run,
                              supervised_run)
from harness.variants import (basis_seed_losses, csr_loader_sample, eigsh_series, sage_export_cloned,
                              sage_export_spmm, sampled_batch_kernel, step_ms)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def profile_runs(graph, steps: int, report: dict) -> None:
    out = {}
    sampler = make_sampler(graph)
    nef = build_objective("neuralef", DIM, estimator="bank")
    nef.setup(graph, sampler)
    report["neuralef_default_estimator"] = nef.estimator
    runs = {f"neuralef/{e}": spectral_run(e, graph, nef)[1] for e in ("mlp", "sage")}
    runs["supervised/sage"] = supervised_run(graph)
    anchored = make_sampler(graph, build_objective("basis", DIM).anchor_nodes(graph))
    basis = build_objective("basis", DIM, batch_operator="global")
    basis.setup(graph, anchored)
    for e in ("mlp", "sage"):
        runs[f"basis/{e}"] = spectral_run(e, graph, basis)[1]
    for name, step in runs.items():
        smp = anchored if name.startswith("basis") else sampler
        out[name] = cprofile_steps(step, smp, steps)
        print(f"\n=== cProfile {name}: {steps} steps (incl. sampling), top own time\n{out[name]}")
    report["cprofile"] = out

    # -- BASiS (global operator) A/B on the same batches: whole steps (forward, loss, backward, Adam)
    batches = list(islice(anchored.batches(), steps))
    enc = build_encoder("sage", graph, DIM, encoder_config("sage"))
    opt = torch.optim.Adam(enc.parameters(), lr=LR)
    seed_losses = basis_seed_losses(basis)
    variants = (("as is", basis.loss, False), ("numpy BLAS 1 thread", basis.loss, True),
                *((name, fn, False) for name, fn in seed_losses.items()))
    ab: dict = {}
    for _ in range(3):  # alternate the variants; keep each one's fastest pass (the machine is shared)
        for name, fn, one_thread in variants:
            r = step_ms(enc, opt, fn, batches, one_thread)
            if name not in ab or r["step"] < ab[name]["step"]:
                ab[name] = r
    report["basis_step_ms"] = ab
    print("\n=== BASiS (global) sage step, ms (best of 3 passes over the same batches):")
    for k, v in ab.items():
        print(f"  {k:<36} " + "  ".join(f"{p} {x:7.1f}" for p, x in v.items()))
    sup = runs["supervised/sage"]
    t = time.perf_counter()
    for batch in batches:
        sup(batch)
    report["supervised_sage_step_ms_same_batches"] = 1000 * (time.perf_counter() - t) / len(batches)
    print(f"  supervised GraphSAGE on the same batches: {report['supervised_sage_step_ms_same_batches']:.1f} ms")

    # -- NeuralEF loss: kernel build share
    batches = list(islice(sampler.batches(), steps))
    psis = [enc(b).detach().requires_grad_() for b in batches]
    running = build_objective("neuralef", DIM, estimator="running")
    running.setup(graph, sampler)

    def nef_loss(part: str) -> float:
        total = 0.0
        for b, p in zip(batches, psis):
            enc(b)
            b = b.without_kernel()
            t = time.perf_counter()
            if part == "kernel":
                _ = b.kernel
            elif part == "running":
                running.loss(b, p)
            else:
                nef.loss(b, p)
            total += time.perf_counter() - t
        return 1000 * total / len(batches)

    report["neuralef_loss_ms"] = {
        f"loss, estimator {nef.estimator} (default)": min(nef_loss("default"), nef_loss("default")),
        "loss, estimator running": min(nef_loss("running"), nef_loss("running")),
        "batch kernel build (in both)": min(nef_loss("kernel"), nef_loss("kernel"))}
    print("\n=== NeuralEF loss per step, ms:", report["neuralef_loss_ms"])


def profile_export(graph, report: dict, timeout: float | None, variants: list[str]) -> None:
    enc = build_encoder("sage", graph, DIM, encoder_config("sage"), seed=0)
    enc.eval()
    res = {}
    all_variants = {"spmm (proposed)": lambda: sage_export_spmm(enc.net, graph),
                    "embed_all, outputs copied": lambda: sage_export_cloned(enc.net, graph),
                    "embed_all (library)": lambda: enc.embed_all(graph)}
    outs = []
    for name, fn in ((k, v) for k, v in all_variants.items() if k.split(" ")[0].strip(",") in variants):
        reset_peak_rss()
        rss0 = current_rss_gib()
        try:
            with time_limit(timeout):
                t = time.perf_counter()
                out = fn()
                sec = time.perf_counter() - t
            res[name] = {"seconds": sec, "nodes_per_second": graph.num_nodes / sec,
                         "peak_rss_gib": peak_rss_gib(), "rss_before_gib": rss0}
            outs.append(out)
        except StageTimeout as exc:
            res[name] = {"status": str(exc), "peak_rss_gib": peak_rss_gib(), "rss_before_gib": rss0}
        print(f"=== sage export {name}: {res[name]}")
    if len(outs) >= 2:
        res["max_abs_difference"] = max(float((o - outs[0]).abs().max()) for o in outs[1:])
        res["max_abs_value"] = float(outs[0].abs().max())
        print(f"    max |difference| {res['max_abs_difference']:.2e} (values up to {res['max_abs_value']:.2f})")
    report["sage_export"] = res


def profile_loader(graph, report: dict) -> None:
    """The library's loader against one over the graph's CSR: time, memory kept (the loader and the
    batch stay alive), same subgraph."""
    seeds = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(1))[:1024]

    def library():
        sampler = BatchSampler(graph, BATCH_SIZE, [-1], seed=0)
        return sampler, sampler.sample(seeds)

    res, kept = {}, {}
    for name, fn in (("library (edge_index -> CSC by sort)", library),
                     ("proposed (SparseTensor from the graph's CSR)", lambda: csr_loader_sample(graph, seeds))):
        gc.collect()
        reset_peak_rss()
        rss0 = current_rss_gib()
        t = time.perf_counter()
        kept[name] = fn()
        res[name] = {"seconds": time.perf_counter() - t, "rss_kept_gib": current_rss_gib() - rss0,
                     "peak_extra_gib": peak_rss_gib() - rss0}
        print("=== loader", res)
    (_, lib), (_, n_id, edge_index) = kept.values()

    def edges(ids, ei):
        return set(zip(ids[ei[0]].tolist(), ids[ei[1]].tolist()))

    res["same_nodes"] = bool(torch.equal(torch.sort(lib.n_id).values, torch.sort(n_id).values))
    res["same_edges"] = edges(lib.n_id, lib.edge_index) == edges(n_id, edge_index)
    report["loader"] = res
    print("=== loader", res)


def profile_eigsh(graph, report: dict, timeout: float) -> None:
    from graph_eigen.graph.operators import normalized_adjacency

    res = {}
    basis = build_objective("basis", DIM, batch_operator="sampled")
    sampler = make_sampler(graph, basis.anchor_nodes(graph))
    kernel = sampled_batch_kernel(graph, sampler.sample(sampler.pool[: BATCH_SIZE]))
    res["batch_kernel_nodes"] = kernel.shape[0]
    res["batch kernel (BASiS sampled, every step)"] = eigsh_series(kernel, DIM, (1e-2, 1e-4, 0.0), timeout, "batch")
    res["batch kernel, BLAS 1 thread"] = eigsh_series(kernel, DIM, (0.0,), timeout, "batch", one_thread=True)
    del sampler
    res["global kernel (BASiS global set-up, exact_eigenpairs)"] = eigsh_series(
        normalized_adjacency(graph), DIM, (1e-3, 1e-6, 0.0), timeout, "global")
    report["eigsh_k64"] = res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--only", nargs="+", choices=("steps", "export", "loader", "eigsh"),
                        default=["steps", "loader", "export", "eigsh"])
    parser.add_argument("--eigsh-timeout", type=float, default=600.0)
    parser.add_argument("--export-timeout", type=float, default=1800.0)
    parser.add_argument("--export-variants", nargs="+", default=["spmm", "embed_all"],
                        choices=("spmm", "embed_all"),
                        help="embed_all = the library and the library with copied outputs (its memory at full "
                             "scale exceeds 21 GiB: leave it out there)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    graph = load_sbm(f"preset=products,seed=0,n={args.nodes}")
    report: dict = {"command": command_line(), "nodes": graph.num_nodes, "edges": graph.num_edges,
                    "environment": environment()}
    if "steps" in args.only:
        profile_runs(graph, args.steps, report)
    if "loader" in args.only:
        profile_loader(graph, report)
    if "export" in args.only:
        profile_export(graph, report, args.export_timeout, args.export_variants)
    if "eigsh" in args.only:
        profile_eigsh(graph, report, args.eigsh_timeout)
    report["loadavg_end"] = list(os.getloadavg())
    path = args.json or RESULTS / f"profile_{graph.num_nodes}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
