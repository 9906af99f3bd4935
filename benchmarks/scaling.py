"""Scaling series: speed.py at 1e4, 1e5, 1e6 and 2.45e6 nodes; time and memory against edges.

    python benchmarks/scaling.py                       # runs speed.py at every size (hours at full scale)
    python benchmarks/scaling.py --steps 10 --reuse    # reuse benchmarks/results/speed_<n>.json where present

Each size runs in its own process (``benchmarks/speed.py --nodes N --steps S --json
benchmarks/results/speed_N.json``), so its peak memory is its own. Writes
``benchmarks/results/scaling.json`` (one row per size, with the command that produced it),
``benchmarks/results/scaling.md`` and ``benchmarks/results/scaling.png``: epoch time, time per
step and peak RSS against the number of edges, with a linear-in-edges reference line through
the largest graph. "Linear in edges" is judged by the log-log slope between consecutive sizes
(1 = linear) and, for memory, by a least-squares fit ``peak = a + b * edges``.
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SIZES = (10_000, 100_000, 1_000_000, 2_449_029)


def run_size(nodes: int, args) -> dict:
    path = RESULTS / f"speed_{nodes}.json"
    if args.reuse and path.is_file():
        print(f"reusing {path.relative_to(ROOT)}")
        return json.loads(path.read_text())
    cmd = [sys.executable, "benchmarks/speed.py", "--nodes", str(nodes), "--steps", str(args.steps),
           "--json", str(path.relative_to(ROOT)), "--quiet", *args.speed_args]
    if args.nice:
        cmd = ["nice", "-n", str(args.nice)] + cmd
    print("running", " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    return json.loads(path.read_text())


def row(r: dict) -> dict:
    stages = r["stages"]
    return {
        "nodes": r["graph"]["nodes"],
        "edges": r["graph"]["edges"],
        "command": r["command"],
        "steps_timed": r["settings"]["steps"],
        "loadavg_start": r["environment"]["loadavg_start"],
        "graph_build_seconds": r["graph_build_seconds"],
        "build_peak_rss_gib": stages["build"]["peak_rss_gib"],
        "epoch_seconds": r["epoch_seconds"],
        "seconds_per_step": r["seconds_per_step"],
        "steps_per_epoch": r["steps_per_epoch"],
        "supervised_sage_epoch_seconds": r.get("supervised_sage_epoch_seconds"),
        "supervised_sage_seconds_per_step": r.get("supervised_sage_seconds_per_step"),
        "overhead_vs_supervised_sage": r.get("overhead_vs_supervised_sage"),
        "peak_rss_gib": r["peak_rss_gib"],
        "peak_rss_stage": r["peak_rss_stage"],
        "peak_rss_gib_by_run": r.get("peak_rss_gib_by_run", {}),
        "export_nodes_per_second": r.get("export_nodes_per_second"),
        "export": {k: v.get("nodes_per_second") for k, v in r.get("export", {}).items()},
        "basis_batch_operator": r.get("basis_batch_operator"),
        "basis_setup_seconds": r.get("basis_setup_seconds"),
        "eigsh_k64_seconds": r.get("eigsh_k64_seconds"),
        "eigsh_k64_status": r.get("eigsh_k64", {}).get("status"),
    }


def slopes(xs, ys) -> list:
    """log-log slopes between consecutive points (1 = linear)."""
    out = []
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        out.append(None if not (y0 and y1) else round(math.log(y1 / y0) / math.log(x1 / x0), 3))
    return out


def linear_fit(xs, ys) -> dict:
    """Least squares y = a + b x; a in the unit of y, b per edge."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    a = my - b * mx
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return {"intercept": a, "per_edge": b, "r2": 1 - ss_res / ss_tot if ss_tot else 1.0}


def analyse(rows: list[dict]) -> dict:
    edges = [r["edges"] for r in rows]
    out: dict = {"epoch_seconds_loglog_slope": {}, "peak_rss_loglog_slope": {}, "peak_rss_linear_fit_gib": {}}
    runs = sorted({k for r in rows for k in r["epoch_seconds"]})
    for k in runs:
        out["epoch_seconds_loglog_slope"][k] = slopes(edges, [r["epoch_seconds"].get(k) for r in rows])
    sup = [r["supervised_sage_epoch_seconds"] for r in rows]
    if all(sup):
        out["epoch_seconds_loglog_slope"]["supervised/sage"] = slopes(edges, sup)
    mem = {"overall": [r["peak_rss_gib"] for r in rows], "build": [r["build_peak_rss_gib"] for r in rows]}
    for k in sorted({k for r in rows for k in r["peak_rss_gib_by_run"]}):
        mem[k] = [r["peak_rss_gib_by_run"].get(k) for r in rows]
    for k, ys in mem.items():
        out["peak_rss_loglog_slope"][k] = slopes(edges, ys)
        if all(y is not None for y in ys):
            fit = linear_fit(edges, ys)
            out["peak_rss_linear_fit_gib"][k] = {"intercept_gib": round(fit["intercept"], 3),
                                                  "bytes_per_edge": round(fit["per_edge"] * 2**30, 1),
                                                  "r2": round(fit["r2"], 4)}
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = [r["edges"] for r in rows]
    runs = sorted({k for r in rows for k in r["epoch_seconds"]})
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))

    def reference(ax, ys, label="linear in edges"):
        ys = [y for y in ys if y]
        if ys:
            scale = ys[-1] / edges[len(ys) - 1]
            ax.plot(edges, [scale * e for e in edges], "k:", lw=1, label=label)

    ax = axes[0]
    for k in runs:
        ax.plot(edges, [r["epoch_seconds"].get(k) for r in rows], "o-", label=k)
    sup = [r["supervised_sage_epoch_seconds"] for r in rows]
    ax.plot(edges, sup, "s--", color="black", label="supervised GraphSAGE")
    reference(ax, sup)
    ax.set(xscale="log", yscale="log", xlabel="undirected edges", ylabel="seconds per epoch (estimated)",
           title="epoch time")
    ax.legend(fontsize=8)

    ax = axes[1]
    for k in runs:
        ax.plot(edges, [r["seconds_per_step"].get(k) for r in rows], "o-", label=k)
    ax.plot(edges, [r["supervised_sage_seconds_per_step"] for r in rows], "s--", color="black",
            label="supervised GraphSAGE")
    ax.set(xscale="log", yscale="log", xlabel="undirected edges", ylabel="seconds per step (batch 1024)",
           title="time per step")
    ax.legend(fontsize=8)

    ax = axes[2]
    ax.plot(edges, [r["peak_rss_gib"] for r in rows], "o-", color="black", lw=2, label="overall peak")
    ax.plot(edges, [r["build_peak_rss_gib"] for r in rows], "^--", label="graph build")
    for k in sorted({k for r in rows for k in r["peak_rss_gib_by_run"]}):
        ax.plot(edges, [r["peak_rss_gib_by_run"].get(k) for r in rows], ".-", label=f"train {k}")
    reference(ax, [r["peak_rss_gib"] for r in rows])
    ax.axhline(12, color="red", lw=1, ls="--", label="12 GiB target")
    ax.set(xscale="log", yscale="log", xlabel="undirected edges", ylabel="peak RSS (GiB)", title="peak memory")
    ax.legend(fontsize=8)
    fig.suptitle("graph_eigen on DC-SBM (products preset), batch 1024, fanouts 10,5, hidden 256, K=64, 2 cores")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(rows: list[dict], analysis: dict, command: str) -> str:
    runs = sorted({k for r in rows for k in r["epoch_seconds"]})
    head = ["nodes", "edges", "build s", *[f"epoch {k} s" for k in runs], "epoch supervised sage s",
            "BASiS operator", "peak RSS GiB (stage)", "train peak RSS GiB", "export mlp nodes/s",
            "export sage nodes/s", "eigsh K=64", "load avg"]
    lines = ["# Scaling series", "", f"Command: `{command}`", "",
             "Epoch times are estimated from timed steps (see each speed_<n>.md); the command of each size is "
             "in its row of scaling.json and in speed_<n>.md. Train peak RSS: the largest of the per-run "
             "memory probes. Load avg: the 1-minute load average of the machine when the size started "
             "(2 cores; other jobs ran on it).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        eig = f"{r['eigsh_k64_seconds']:.0f} s" if r["eigsh_k64_seconds"] is not None else r["eigsh_k64_status"]
        train_peak = max(r["peak_rss_gib_by_run"].values()) if r["peak_rss_gib_by_run"] else None
        cells = [f"{r['nodes']:,}", f"{r['edges']:,}", f"{r['graph_build_seconds']:.1f}",
                 *[_f(r["epoch_seconds"].get(k)) for k in runs], _f(r["supervised_sage_epoch_seconds"]),
                 str(r["basis_batch_operator"]), f"{r['peak_rss_gib']:.2f} ({r['peak_rss_stage']})",
                 _f(train_peak, 2), _f(r["export_nodes_per_second"], 0), _f(r["export"].get("sage"), 0), eig,
                 f"{r['loadavg_start'][0]:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    steps = [f"{a['nodes']:.0e} -> {b['nodes']:.0e}".replace("+0", "") for a, b in zip(rows, rows[1:])]
    lines += ["", "Log-log slopes between consecutive sizes (1 = linear in edges):", "",
              "| quantity | " + " | ".join(steps) + " |", "|---|" + "---|" * len(steps)]
    for k, v in analysis["epoch_seconds_loglog_slope"].items():
        lines.append(f"| epoch time {k} | " + " | ".join(_f(x, 2) for x in v) + " |")
    for k, v in analysis["peak_rss_loglog_slope"].items():
        lines.append(f"| peak RSS {k} | " + " | ".join(_f(x, 2) for x in v) + " |")
    lines += ["", "Peak RSS fitted as intercept + bytes per undirected edge:", "",
              "| memory | intercept GiB | bytes per edge | R^2 |", "|---|---|---|---|"]
    for k, v in analysis["peak_rss_linear_fit_gib"].items():
        lines.append(f"| {k} | {v['intercept_gib']:.2f} | {v['bytes_per_edge']:.0f} | {v['r2']:.4f} |")
    lines.append("")
    return "\n".join(lines)


def _f(v, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run at every size (default 10)")
    parser.add_argument("--reuse", action="store_true", help="reuse benchmarks/results/speed_<n>.json if present")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the speed.py runs (default 10)")
    parser.add_argument("--speed-args", default="", help="extra arguments for speed.py, one string")
    args = parser.parse_args()
    args.speed_args = shlex.split(args.speed_args)
    command = "python " + " ".join(shlex.quote(a) for a in ["benchmarks/scaling.py"] + sys.argv[1:])

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = [row(run_size(n, args)) for n in args.sizes]
    rows.sort(key=lambda r: r["edges"])
    analysis = analyse(rows)
    out = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows, "analysis": analysis}
    (RESULTS / "scaling.json").write_text(json.dumps(out, indent=1) + "\n")
    (RESULTS / "scaling.md").write_text(markdown(rows, analysis, command))
    plot(rows, RESULTS / "scaling.png")
    print(markdown(rows, analysis, command))
    print(f"wrote {RESULTS / 'scaling.json'}, scaling.md, scaling.png")


if __name__ == "__main__":
    main()
