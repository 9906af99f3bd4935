"""The figures of a ``speed.py`` result (epoch times, overheads against supervised GraphSAGE,
peak memory, targets) and its reports: a readable table on stdout and the Markdown file."""
from __future__ import annotations

import json
import os
from pathlib import Path

from harness import environment
from harness.report import command_line, fmt, md_table, text_table
from harness.training import BATCH_SIZE, DIM, FANOUTS, HIDDEN, LAYERS, LR, PARTS

BREAKDOWN_HEAD = ("run", "sample ms", "forward ms", "loss ms", "backward ms", "optim ms", "step ms (mean)",
                  "step ms (median)", "CPU ms", "batch nodes")
EPOCH_METHOD = (
    "estimated: (mean wall-clock seconds per timed step, sampling included) x steps_per_epoch; "
    "{warmup} warm-up steps discarded, then {steps} steps timed one by one, the runs that share a "
    "loader interleaved round by round on the same batches"
)


def new_result(args, dataset: str, peak_resets: bool) -> dict:
    """The head of a result: command, dataset, settings, how epochs and peaks are measured, environment."""
    return {
        "command": command_line(),
        "dataset": dataset,
        "settings": {"batch_size": BATCH_SIZE, "fanouts": FANOUTS, "hidden": HIDDEN, "dim": DIM,
                     "layers": LAYERS, "optimizer": "adam", "lr": LR, "steps": args.steps,
                     "warmup": args.warmup, "sampled_steps": args.sampled_steps,
                     "memory_steps": args.memory_steps,
                     "eigsh_timeout_s": args.eigsh_timeout, "export_timeout_s": args.export_timeout},
        "epoch_seconds_method": EPOCH_METHOD.format(warmup=args.warmup, steps=args.steps),
        "environment": environment(),
        "peak_rss_method": ("getrusage(RUSAGE_SELF).ru_maxrss per stage, high-water mark reset before each "
                            "stage via /proc/self/clear_refs" if peak_resets else
                            "getrusage(RUSAGE_SELF).ru_maxrss, cumulative (could not reset per stage)"),
    }


def add_figures(result: dict, timings: dict, references: dict, basis_info: dict, eigsh: dict, export: dict,
                stages: dict) -> None:
    """The summary figures of a run, added to ``result`` in the order of its JSON file."""
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
    result["peak_rss_gib"] = max(s["peak_rss_gib"] for s in stages.values())
    result["peak_rss_stage"] = max(stages, key=lambda s: stages[s]["peak_rss_gib"])
    result["peak_rss_gib_by_run"] = {name[len("memory "):]: s["peak_rss_gib"] for name, s in stages.items()
                                     if name.startswith("memory ")}
    result["stages"] = stages
    result["steps"] = timings
    result["targets"] = targets(result)
    result["environment"]["loadavg_end"] = os.getloadavg()


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


def rows(r: dict) -> list[tuple[str, str]]:
    g = r["graph"]
    out = [
        ("dataset", r["dataset"]),
        ("graph", f"{g['nodes']:,} nodes, {g['edges']:,} undirected edges, {g['features']} features, "
                  f"{g['classes']} classes"),
        ("graph build", fmt(r["graph_build_seconds"], " s", 1)),
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
        out.append((f"epoch {key}", f"{fmt(epoch, ' s', 1)} ({st['seconds_per_step_mean']:.3f} s/step x "
                                     f"{st['steps_per_epoch']:,} steps; {fmt(ratio, 'x')} of supervised, "
                                     f"{fmt(cpu, 'x')} in CPU time{extra})"))
    if sup is not None:
        st = r["steps"]["supervised/sage"]
        out.append(("epoch supervised GraphSAGE", f"{fmt(r['supervised_sage_epoch_seconds'], ' s', 1)} "
                                                  f"({sup:.3f} s/step x {st['steps_per_epoch']:,} steps)"))
    for prefix, sec in r.get("neuralef_setup_seconds", {}).items():
        out.append((f"{prefix} set-up", fmt(sec, " s", 1)))
    if r.get("basis_batch_operator"):
        out.append(("BASiS set-up", f"{fmt(r['basis_setup_seconds'], ' s', 1)} (operator "
                                     f"{r['basis_batch_operator']})"))
    e = r["eigsh_k64"]
    out.append(("exact eigsh K=64", fmt(e["seconds"], " s", 1) if e["seconds"] is not None else e["status"]))
    for enc, ex in r["export"].items():
        val = (f"{ex['nodes_per_second']:,.0f} nodes/s ({ex['seconds']:.1f} s, chunk {ex.get('chunk')})"
               if ex.get("nodes_per_second") else ex.get("status", "-"))
        out.append((f"export {enc}", val))
    out.append(("peak RSS", f"{r['peak_rss_gib']:.2f} GiB (stage: {r['peak_rss_stage']})"))
    for run_name, gib in r.get("peak_rss_gib_by_run", {}).items():
        out.append((f"peak RSS {run_name}", f"{gib:.2f} GiB"))
    return out


def stage_rows(r: dict) -> list[tuple[str, str, str, str]]:
    return [(name, fmt(s["seconds"], "", 1), fmt(s["peak_rss_gib"]), s["status"]) for name, s in r["stages"].items()]


def breakdown_rows(r: dict) -> list[tuple]:
    out = []
    for key, st in r["steps"].items():
        b = st["breakdown_seconds_per_step"]
        out.append((key, *(f"{b[p] * 1000:.0f}" for p in PARTS), f"{st['seconds_per_step_mean'] * 1000:.0f}",
                    f"{st['seconds_per_step_median'] * 1000:.0f}", f"{st['cpu_seconds_per_step_mean'] * 1000:.0f}",
                    f"{st['batch_nodes_mean']:,.0f}"))
    return out


def print_report(r: dict) -> None:
    w = max(len(k) for k, _ in rows(r))
    print()
    for k, v in rows(r):
        print(f"{k:<{w}}  {v}")
    print(f"\nepoch time: {r['epoch_seconds_method']}\n")
    print(text_table(BREAKDOWN_HEAD, breakdown_rows(r)))
    print()
    print(text_table(("stage", "seconds", "peak RSS GiB", "status"), stage_rows(r)))
    print("\ntargets:")
    for k, t in r["targets"].items():
        print(f"  {'met   ' if t['met'] else 'MISSED'}  {k}: {t['value']}")


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
        md_table(("figure", "value"), rows(r)),
        "",
        "Per-step breakdown (means over the timed steps):",
        "",
        md_table(BREAKDOWN_HEAD, breakdown_rows(r)),
        "",
        f"Stages ({r['peak_rss_method']}):",
        "",
        md_table(("stage", "seconds", "peak RSS GiB", "status"), stage_rows(r)),
        "",
        "Targets:",
        "",
        md_table(("target", "value", "met"), [(k, t["value"], "yes" if t["met"] else "**no**")
                                              for k, t in r["targets"].items()]),
        "",
    ]
    return "\n".join(parts)


def write_outputs(result: dict, md: Path, json_path: Path | None) -> None:
    """The Markdown report, and with ``json_path`` every figure (replacing the partial file)."""
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown(result))
    print(f"\nwrote {md}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=1) + "\n")
        json_path.with_suffix(".partial.json").unlink(missing_ok=True)
        print(f"wrote {json_path}")
