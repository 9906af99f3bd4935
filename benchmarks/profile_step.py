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

The runs are set up as in ``benchmarks/speed.py`` (same batch size, fanouts, widths, optimizer);
the few harness helpers it shares with that script are repeated below, so that each script
stands alone.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shlex
import sys
import time
from itertools import islice
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from graph_eigen.data.synthetic import load_sbm
from graph_eigen.model.encoders import EncoderConfig, build_encoder
from harness import StageTimeout, current_rss_gib, environment, peak_rss_gib, reset_peak_rss, time_limit
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.objectives import build_objective
from graph_eigen.model.objectives.alignment import apply_affine, fit_affine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# the settings of benchmarks/speed.py
BATCH_SIZE = 1024
FANOUTS = [10, 5]
HIDDEN = 256
DIM = 64
LAYERS = 2
LR = 0.01


# ---------------------------------------------------------------------- batches and encoders
def make_sampler(graph, anchors=None) -> BatchSampler:
    sampler = BatchSampler(graph, BATCH_SIZE, FANOUTS, seed=0, anchors=anchors, with_features=True)
    sampler.sample(sampler.pool[:BATCH_SIZE])  # builds the NeighborLoader now
    return sampler


def encoder_config(name: str) -> EncoderConfig:
    return EncoderConfig(name=name, hidden=HIDDEN, layers=LAYERS)


def spectral_run(name: str, graph, objective):
    """One training step as in graph_eigen.runs.recorder.train (forward, loss, backward, Adam)."""
    encoder = build_encoder(name, graph, DIM, encoder_config(name), seed=0)
    opt = torch.optim.Adam(encoder.parameters(), lr=LR)

    def step(batch) -> None:
        encoder.train()
        objective.train()
        loss, _ = objective.loss(batch, encoder(batch))
        if not torch.isfinite(loss):
            raise RuntimeError("non-finite loss")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return encoder, step


def supervised_run(graph):
    """Plain supervised GraphSAGE: cross-entropy on the seeds' labels."""
    from torch_geometric.nn import GraphSAGE

    torch.manual_seed(0)
    net = GraphSAGE(graph.num_features, HIDDEN, LAYERS, out_channels=graph.num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def step(batch) -> None:
        net.train()
        b = batch.num_seeds
        loss = F.cross_entropy(net(batch.x, batch.edge_index)[:b], graph.y[batch.n_id[:b]])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


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
        stream = smp.batches()
        step(next(stream))  # warm-up
        prof = cProfile.Profile()
        prof.enable()
        for batch in islice(stream, steps):
            step(batch)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
        text = buf.getvalue()
        out[name] = text[text.find("ncalls") - 3:]
        print(f"\n=== cProfile {name}: {steps} steps (incl. sampling), top own time\n{out[name]}")
    report["cprofile"] = out

    # -- BASiS (global operator) A/B on the same batches: whole steps (forward, loss, backward, Adam)
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    batches = list(islice(anchored.batches(), steps))
    enc = build_encoder("sage", graph, DIM, encoder_config("sage"))
    opt = torch.optim.Adam(enc.parameters(), lr=LR)
    reference64 = basis.reference.double()

    def seed_targets(batch) -> np.ndarray:  # the global operator's (unaligned) targets of the seeds alone
        return basis.batch_eigenvectors(SimpleNamespace(n_id=batch.n_id[: batch.num_seeds]))[0]

    def seeds_only_loss(batch, psi):  # targets for the seed rows only, alignment in numpy
        b = batch.num_seeds
        phi = seed_targets(batch)
        t = fit_affine(phi[: batch.num_anchors], reference64.numpy())
        y = torch.from_numpy(apply_affine(t, phi)).float()
        return (psi[:b] - y).pow(2).sum(1).mean(), {}

    def torch_loss(batch, psi):  # seed rows only, alignment in torch (its own threads, no numpy BLAS)
        b = batch.num_seeds
        phi = torch.from_numpy(seed_targets(batch))
        ones = torch.ones(b, 1, dtype=phi.dtype)
        design = torch.cat([phi, ones], 1)
        solution = torch.linalg.lstsq(design[: batch.num_anchors], reference64, driver="gelsd").solution
        y = (design @ solution).float()
        return (psi[:b] - y).pow(2).sum(1).mean(), {}

    def run_all(loss_fn, one_thread: bool) -> dict:
        """Mean ms per step of forward, loss, backward+optimizer over the batches."""
        tot = {"forward": 0.0, "loss": 0.0, "backward": 0.0}
        with threadpool_limits(limits=1, user_api="blas") if one_thread else nullcontext():
            for batch in batches:
                t0 = time.perf_counter()
                psi = enc(batch)
                t1 = time.perf_counter()
                loss, _ = loss_fn(batch, psi)
                t2 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                t3 = time.perf_counter()
                for k, v in zip(tot, (t1 - t0, t2 - t1, t3 - t2)):
                    tot[k] += v
        out = {k: 1000 * v / len(batches) for k, v in tot.items()}
        out["step"] = sum(out.values())
        return out

    variants = (("as is", basis.loss, False), ("numpy BLAS 1 thread", basis.loss, True),
                ("seed rows only (numpy)", seeds_only_loss, False),
                ("seed rows only, alignment in torch", torch_loss, False))
    ab: dict = {}
    for _ in range(3):  # alternate the variants; keep each one's fastest pass (the machine is shared)
        for name, fn, one_thread in variants:
            r = run_all(fn, one_thread)
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


# ---------------------------------------------------------------------- sage export
@torch.no_grad()
def sage_export_spmm(net, graph, chunk: int = 1 << 18) -> torch.Tensor:
    """Layer-wise full-graph GraphSAGE inference (mean aggregation) by CSR matmul over row chunks.

    Same result as ``BasicGNN.inference`` with a full-neighborhood loader, without a loader:
    per layer, ``lin_l(mean_j x_j) + lin_r(x_i)``; when the layer narrows the width, ``lin_l``
    (without its bias) is applied before the aggregation, which commutes with it.
    """
    from torch_geometric.nn import SAGEConv

    n = graph.num_nodes
    row, col = graph.edge_index  # sorted by (row, col), both directions
    deg = torch.bincount(row, minlength=n)
    crow = torch.zeros(n + 1, dtype=torch.long)
    torch.cumsum(deg, 0, out=crow[1:])
    inv_deg = 1.0 / deg.clamp_min(1).float()
    import warnings

    warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
    x = graph.x
    convs = list(net.convs)
    for i, conv in enumerate(convs):
        assert isinstance(conv, SAGEConv) and conv.aggr == "mean" and not conv.project and not conv.normalize
        project_first = conv.out_channels < conv.in_channels
        src = x @ conv.lin_l.weight.T if project_first else x
        out = torch.empty(n, conv.out_channels)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            lo, hi = int(crow[s]), int(crow[e])
            a = torch.sparse_csr_tensor(crow[s:e + 1] - lo, col[lo:hi], torch.ones(hi - lo), size=(e - s, n))
            agg = (a @ src) * inv_deg[s:e, None]
            h = agg + conv.lin_l.bias if project_first else conv.lin_l(agg)
            out[s:e] = h + conv.lin_r(x[s:e])
        del src
        x = out.relu_() if i < len(convs) - 1 else out
    return x


@torch.no_grad()
def sage_export_cloned(net, graph, chunk: int = 65536) -> torch.Tensor:
    """``BasicGNN.inference`` with one change: each batch's output rows are copied.

    PyG's loop keeps ``conv(x, edge_index)[:batch_size]`` of the last layer, a VIEW into the
    output for every node of the batch (seeds and their neighbors), so the list of outputs keeps
    every batch's full output alive until the final ``torch.cat``.
    """
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader

    loader = NeighborLoader(Data(x=graph.x, edge_index=graph.edge_index, num_nodes=graph.num_nodes),
                            num_neighbors=[-1], batch_size=chunk, shuffle=False)
    x_all = graph.x
    for i in range(net.num_layers):
        xs = []
        for batch in loader:
            xs.append(net.inference_per_layer(i, x_all[batch.n_id], batch.edge_index, batch.batch_size).clone())
        x_all = torch.cat(xs)
    return x_all


def profile_export(graph, report: dict, timeout: float | None, variants: list[str]) -> None:
    enc = build_encoder("sage", graph, DIM, encoder_config("sage"), seed=0)
    enc.eval()
    res = {}
    all_variants = {"spmm (proposed)": lambda: sage_export_spmm(enc.net, graph),
                    "embed_all, outputs copied": lambda: sage_export_cloned(enc.net, graph),
                    "embed_all (library)": lambda: enc.embed_all(graph)}
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
            res.setdefault("_outputs", []).append(out)
        except StageTimeout as exc:
            res[name] = {"status": str(exc), "peak_rss_gib": peak_rss_gib(), "rss_before_gib": rss0}
        print(f"=== sage export {name}: {res[name]}")
    outs = res.pop("_outputs", [])
    if len(outs) >= 2:
        res["max_abs_difference"] = max(float((o - outs[0]).abs().max()) for o in outs[1:])
        res["max_abs_value"] = float(outs[0].abs().max())
        print(f"    max |difference| {res['max_abs_difference']:.2e} (values up to {res['max_abs_value']:.2f})")
    report["sage_export"] = res


def profile_loader(graph, report: dict) -> None:
    import gc

    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader
    from torch_sparse import SparseTensor

    res = {}
    seeds = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(1))[:1024]

    gc.collect()
    reset_peak_rss()
    rss0 = current_rss_gib()
    t = time.perf_counter()
    sampler = BatchSampler(graph, BATCH_SIZE, [-1], seed=0)
    lib = sampler.sample(seeds)
    res["library (edge_index -> CSC by sort)"] = {
        "seconds": time.perf_counter() - t, "rss_kept_gib": current_rss_gib() - rss0,
        "peak_extra_gib": peak_rss_gib() - rss0}
    print("=== loader", res)

    gc.collect()
    reset_peak_rss()
    rss0 = current_rss_gib()
    t = time.perf_counter()
    n = graph.num_nodes
    row, col = graph.edge_index
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    torch.cumsum(torch.bincount(row, minlength=n), 0, out=rowptr[1:])
    adj_t = SparseTensor(rowptr=rowptr, col=col, sparse_sizes=(n, n), is_sorted=True, trust_data=True)
    loader = NeighborLoader(Data(adj_t=adj_t, x=graph.x, num_nodes=n), num_neighbors=[-1], batch_size=1)
    out = loader.collate_fn(seeds)
    out = out if loader.filter_per_worker else loader.filter_fn(out)
    r, c, _ = out.adj_t.coo()  # adj_t[target, source]
    edge_index = torch.stack([c, r])
    res["proposed (SparseTensor from the graph's CSR)"] = {
        "seconds": time.perf_counter() - t, "rss_kept_gib": current_rss_gib() - rss0,
        "peak_extra_gib": peak_rss_gib() - rss0}

    def edges(n_id, ei):
        return set(zip(n_id[ei[0]].tolist(), n_id[ei[1]].tolist()))

    res["same_nodes"] = bool(torch.equal(torch.sort(lib.n_id).values, torch.sort(out.n_id).values))
    res["same_edges"] = edges(lib.n_id, lib.edge_index) == edges(out.n_id, edge_index)
    report["loader"] = res
    print("=== loader", res)


def _eigsh_series(matrix, tols, timeout, label: str, one_thread: bool = False) -> dict:
    from threadpoolctl import threadpool_limits

    from graph_eigen.spectral.eigsolve import top_eigenpairs

    out, solved = {}, {}
    for tol in tols:
        key = f"tol={tol:g}" + (", BLAS 1 thread" if one_thread else "")
        try:
            with time_limit(timeout), threadpool_limits(limits=1 if one_thread else None, user_api="blas"):
                t = time.perf_counter()
                vals, vecs, _ = top_eigenpairs(matrix, DIM, method="eigsh", seed=0, tol=tol)
                out[key] = {"seconds": time.perf_counter() - t}
            solved[tol] = (vals, vecs)
        except StageTimeout as exc:
            out[key] = {"status": str(exc)}
        print(f"=== eigsh {label} {key}: {out[key]}", flush=True)
    if solved:
        ref_tol = min(solved)
        ref_vals, ref_vecs = solved[ref_tol]
        for tol, (vals, vecs) in solved.items():
            key = f"tol={tol:g}" + (", BLAS 1 thread" if one_thread else "")
            cos = np.linalg.svd(ref_vecs.T @ vecs, compute_uv=False).min()
            out[key].update(reference=f"tol={ref_tol:g}", max_eigenvalue_error=float(np.abs(vals - ref_vals).max()),
                            min_principal_cosine=float(cos))
    return out


def sampled_batch_kernel(graph, batch) -> sp.csr_matrix:
    """The kernel of BASiS's ``sampled`` operator on ``batch``: the sampled subgraph, symmetrized,
    normalized with the global degrees (the matrix whose eigsh BASiS runs every step)."""
    ids = batch.n_id.numpy()
    src, dst = batch.edge_index.numpy()
    inv = 1.0 / np.sqrt(np.maximum(graph.degree.numpy()[ids], 1e-12))
    a = sp.csr_matrix((inv[src] * inv[dst], (src, dst)), shape=(batch.num_nodes, batch.num_nodes))
    return a.maximum(a.T).tocsr()


def profile_eigsh(graph, report: dict, timeout: float) -> None:
    from graph_eigen.graph.operators import normalized_adjacency

    res = {}
    basis = build_objective("basis", DIM, batch_operator="sampled")
    sampler = make_sampler(graph, basis.anchor_nodes(graph))
    kernel = sampled_batch_kernel(graph, sampler.sample(sampler.pool[: BATCH_SIZE]))
    res["batch_kernel_nodes"] = kernel.shape[0]
    res["batch kernel (BASiS sampled, every step)"] = _eigsh_series(kernel, (1e-2, 1e-4, 0.0), timeout, "batch")
    res["batch kernel, BLAS 1 thread"] = _eigsh_series(kernel, (0.0,), timeout, "batch", one_thread=True)
    del sampler
    matrix = normalized_adjacency(graph)
    res["global kernel (BASiS global set-up, exact_eigenpairs)"] = _eigsh_series(
        matrix, (1e-3, 1e-6, 0.0), timeout, "global")
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
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/profile_step.py"] + sys.argv[1:])
    graph = load_sbm(f"preset=products,seed=0,n={args.nodes}")
    report: dict = {"command": command, "nodes": graph.num_nodes, "edges": graph.num_edges,
                    "environment": environment()}
    if "steps" in args.only:
        profile_runs(graph, args.steps, report)
    if "loader" in args.only:
        profile_loader(graph, report)
    if "export" in args.only:
        profile_export(graph, report, args.export_timeout, args.export_variants)
    if "eigsh" in args.only:
        profile_eigsh(graph, report, args.eigsh_timeout)
    report["loadavg_end"] = list(__import__("os").getloadavg())
    path = args.json or RESULTS / f"profile_{graph.num_nodes}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
