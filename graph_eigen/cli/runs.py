"""Sub-commands that make and read runs: train, embed, eval, demo."""
from __future__ import annotations

import argparse
import contextlib
import glob
import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

from graph_eigen.cli.parsing import add_dataset_args
from graph_eigen.cli.train_options import add_train_options, read_config_file
from graph_eigen.config import TrainConfig
from graph_eigen.errors import ConfigError
from graph_eigen.graph.core import Graph
from graph_eigen.runs.checkpoint import load_config
from graph_eigen.runs.folder import EMBEDDINGS, EVAL, PROBE
from graph_eigen.runs.inputs import absolute, judges_another_dataset, load_graph, load_node_ids, run_graph

log = logging.getLogger(__name__)


def add_parsers(sub) -> None:
    """Add the training and evaluation sub-commands to the parser."""
    p = sub.add_parser("train", help="train an encoder and export RUN_DIR/embeddings.npy")
    add_dataset_args(p, required=False)
    p.add_argument("--out", required=True, help="run folder")
    add_train_options(p)
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR's last checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing run (a folder with config.json) once the new run has its first "
                        "checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the processes of torchrun (--batch-size per process); "
                        "see docs/distributed.md")

    p = sub.add_parser("embed", help="export embeddings of a trained run (any graph with the same features)")
    p.add_argument("run_dir")
    add_dataset_args(p, required=False)
    p.add_argument("--out", default=None,
                   help="output .npy (default RUN_DIR/embeddings.npy; required with another --dataset)")
    p.add_argument("--device", default="auto", help="where the encoder runs: auto, cpu or cuda")
    p.add_argument("--nodes", default=None,
                   help=".npy of node ids of the graph: embed only these (new nodes joined to the training "
                        "graph); row i of --out is node ids[i]")
    p.add_argument("--incremental", action="store_true",
                   help="with --nodes, when the other nodes are the training graph's, in order: keep the "
                        "training graph's operator state and compute only the new rows (CPU; "
                        "docs/quality.md measures both ways)")

    p = sub.add_parser("eval", help="compare an embedding with the exact eigenvectors; writes eval.json")
    p.add_argument("run_dir")
    add_dataset_args(p, required=False)
    p.add_argument("--dim", type=int, default=None, help="exact eigenvectors to compare with (default K)")
    p.add_argument("--nodes", default=None, help=".npy of node ids: d_G over these rows only")
    p.add_argument("--embedding", default=None, help="embedding .npy to judge (default RUN_DIR/embeddings.npy)")

    p = sub.add_parser("demo", help="offline demo: train, export, eval and probe on a synthetic graph")
    p.add_argument("--out", default="runs/demo")


def train_config_from_args(args: argparse.Namespace, graph: Optional[Graph] = None,
                           from_file: Optional[dict] = None) -> TrainConfig:
    """The run's configuration (fit.run_config): the defaults (by ``graph``'s size and features
    when it is loaded), overridden by the options of the --config file (``from_file``, read from
    it when not given) and then by flags."""
    from graph_eigen.runs.fit import run_config

    if from_file is None:
        from_file = read_config_file(args.config) if getattr(args, "config", None) else {}
    options = dict(from_file)
    for key in {f for f in TrainConfig.__dataclass_fields__} - {"dataset"}:
        value = getattr(args, key, None)
        if value is not None:
            options[key] = absolute(key, value)
    dataset = absolute("dataset", args.dataset or from_file.get("dataset") or TrainConfig().dataset)
    return run_config(dataset, options, graph)


def check_resume_options(args: argparse.Namespace, saved: TrainConfig) -> None:
    """Refuse options given with --resume that differ from the run's saved ones (only --epochs may)."""
    changed = []
    for key, before in saved.to_dict().items():
        value = getattr(args, key, None)
        if key == "epochs" or value is None:
            continue
        if absolute(key, value) != absolute(key, before):
            changed.append(f"--{key.replace('_', '-')} {value} (saved {before})")
    if changed:
        raise ConfigError(f"--resume continues '{args.out}' with its saved options; these differ: "
                          f"{', '.join(changed)}; only --epochs may change (start a new run instead)")


def train_command(args: argparse.Namespace) -> int:
    from graph_eigen.runs.fit import fit_run

    from_file = read_config_file(args.config) if args.config else {}
    if not args.resume and not (args.dataset or from_file.get("dataset")):
        raise ConfigError("train needs --dataset (a name such as Cora, sbm:n=10000 or file:edges.csv)")
    cfg = train_config_from_args(args, from_file=from_file)  # checks the options before any loading
    if args.resume:
        saved = load_config(args.out)
        check_resume_options(args, saved)
        cfg = TrainConfig.from_dict({**saved.to_dict(), "epochs": args.epochs or saved.epochs})
    if args.distributed:
        return _train_distributed(args, cfg, from_file)
    graph = load_graph(cfg.dataset, cfg.root, cfg.train_nodes)
    if not args.resume:  # the defaults depend on the graph's size and features (runs/presets.py)
        cfg = train_config_from_args(args, graph, from_file)
    run = fit_run(cfg, graph, args.out, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress,
                  row_ids=cfg.train_nodes and f"the ids of {cfg.train_nodes}, sorted")
    print(json.dumps({"run_dir": args.out, "embeddings": str(Path(args.out) / EMBEDDINGS),
                      "nodes": int(run.embedding.shape[0]), "dim": int(run.embedding.shape[1])}))
    return 0


def _train_distributed(args: argparse.Namespace, cfg: TrainConfig, from_file: dict) -> int:
    """``graph-eigen train ... --distributed`` on every rank: train, export, print (rank 0)."""
    from graph_eigen.runs.fit import fit_run
    from graph_eigen.training.distributed import TABLE_MESSAGE, init_distributed

    if cfg.encoder == "table":  # asked for explicitly: refused before the process group starts
        raise ConfigError(TABLE_MESSAGE)
    ctx = init_distributed()
    try:
        # rank 0 loads first (a loader may write processed files to the cache), then the others
        def load():
            return load_graph(cfg.dataset, cfg.root, cfg.train_nodes)

        graph = ctx.on_writer(load)
        if not ctx.is_writer:
            graph = load()
        if not args.resume:  # the same size-based defaults as one process gets (runs/presets.py)
            cfg = train_config_from_args(args, graph, from_file)
        if cfg.encoder == "table":  # the defaults of a graph without features
            raise ConfigError(TABLE_MESSAGE)
        run = fit_run(cfg, graph, args.out, resume=args.resume, overwrite=args.overwrite,
                      progress=not args.no_progress, dist=ctx)
        if ctx.is_writer:
            print(json.dumps({"run_dir": args.out, "embeddings": str(Path(args.out) / EMBEDDINGS),
                              "nodes": int(run.embedding.shape[0]), "dim": int(run.embedding.shape[1]),
                              "world_size": ctx.world_size}))
        ctx.barrier()
    finally:
        ctx.close()
    return 0


def embed_command(args: argparse.Namespace) -> int:
    from graph_eigen.runs.checkpoint import load_model
    from graph_eigen.runs.export import export_embeddings
    from graph_eigen.runs.folder import RunLock

    cfg = load_config(args.run_dir)
    other_root = args.root and os.path.abspath(args.root) != (cfg.root and os.path.abspath(cfg.root))
    other_dataset = args.dataset and absolute("dataset", args.dataset) != absolute("dataset", cfg.dataset)
    if not args.out and (other_dataset or other_root):
        raise ConfigError(f"embed with --dataset '{args.dataset}' needs --out: '{args.run_dir}/embeddings.npy' "
                          f"belongs to the run's own dataset '{cfg.dataset}'")
    if args.nodes and not args.out:
        raise ConfigError("embed --nodes needs --out: the run's embeddings.npy holds every node of its graph")
    out = Path(args.out or Path(args.run_dir) / EMBEDDINGS)
    if out.is_dir():
        raise ConfigError(f"--out '{out}' is a folder; give the path of an .npy file")
    if args.nodes and out.resolve() == (Path(args.run_dir) / EMBEDDINGS).resolve():
        raise ConfigError("embed --nodes would replace the run's own embeddings.npy with some rows: choose another --out")
    if args.incremental and not args.nodes:
        raise ConfigError("embed --incremental computes the rows of the new nodes given by --nodes; pass their ids")
    if args.incremental and args.device not in ("auto", "cpu"):
        raise ConfigError(f"embed --incremental runs on the CPU; drop --device {args.device}")
    graph = run_graph(cfg, args.dataset, args.root, operator=not args.incremental)
    nodes = load_node_ids(args.nodes, graph.num_nodes, "nodes")
    from graph_eigen.device import resolve_device

    if args.incremental:
        model = None
    else:
        model = load_model(args.run_dir, graph)
        model.encoder.to(resolve_device(args.device))
    in_run = out.resolve().parent == Path(args.run_dir).resolve()
    with RunLock(args.run_dir) if in_run else contextlib.nullcontext():
        for name in (out.name, out.name + ".json"):  # temporary files of an export that was killed
            for stale in out.parent.glob(f".{glob.escape(name)}.*.tmp"):
                stale.unlink()
        if args.incremental:
            print(json.dumps(_embed_incrementally(args.run_dir, graph, nodes.numpy(), out, os.path.abspath(args.nodes))))
            return 0
        print(json.dumps(export_embeddings(model, graph, out, run_dir=args.run_dir, progress=True,
                                           nodes=None if nodes is None else nodes.numpy(),
                                           nodes_file=args.nodes and os.path.abspath(args.nodes))))
    return 0


def _embed_incrementally(run_dir: str, graph: Graph, nodes, out: Path, nodes_file: str) -> dict:
    """Write the rows of the new ``nodes`` of ``graph`` computed from the training graph's kept
    state (``GraphEigen.transform(..., incremental=True)``); returns the sidecar's content."""
    import time

    from graph_eigen.api import GraphEigen
    from graph_eigen.runs.export import write_embeddings

    start = time.perf_counter()
    estimator = GraphEigen.load(run_dir)
    rows = estimator.transform(graph, nodes=nodes, incremental=True)
    return write_embeddings(out, rows, estimator.model_, graph.name, run_dir, time.perf_counter() - start,
                            nodes_file, graph.label_names)


def eval_command(args: argparse.Namespace) -> int:
    from graph_eigen.errors import CheckpointError
    from graph_eigen.evaluate.report import spectral_report
    from graph_eigen.io import save_json

    run = Path(args.run_dir)
    cfg = load_config(run)
    emb_path = Path(args.embedding) if args.embedding else run / EMBEDDINGS
    if not emb_path.is_file():
        raise CheckpointError(f"no embedding at '{emb_path}': run `graph-eigen embed {run}` first")
    own = emb_path.resolve() == (run / EMBEDDINGS).resolve()
    if own and judges_another_dataset(cfg, args.dataset, args.root):
        raise ConfigError(f"the run's embedding belongs to its dataset '{cfg.dataset}', not '{args.dataset}': "
                          f"embed that graph first (graph-eigen embed {run} --dataset {args.dataset} "
                          f"--out other.npy) and pass --embedding other.npy")
    # the run's eval.json judges the run's own embedding; another file's judgement goes beside that file
    out = run / EVAL if own else Path(str(emb_path) + ".eval.json")
    graph = run_graph(cfg, args.dataset, args.root)
    emb = _load_npy(emb_path, "embedding")
    nodes = _load_npy(args.nodes, "--nodes") if args.nodes else None
    if args.dim is not None and args.dim < 1:  # spectral_report names its parameter `k`
        raise ConfigError(f"--dim must be a positive number of eigenvectors, got {args.dim}")
    report = spectral_report(emb, graph, k=args.dim, nodes=nodes)
    sidecar = Path(str(emb_path) + ".json")
    if sidecar.is_file():
        report["learned_eigenvalues"] = json.loads(sidecar.read_text()).get("learned_eigenvalues")
    report.update(embedding=str(emb_path.resolve()), dataset=args.dataset or cfg.dataset,
                  operator={"feature_knn": cfg.feature_knn, "feature_knn_weight": cfg.feature_knn_weight,
                            "feature_knn_source": cfg.feature_knn_source} if cfg.feature_knn else "the graph alone")
    save_json(out, report)
    print(json.dumps({"out": str(out), **{k: report[k] for k in ("k", "d_G", "d_G_paper_formula", "d_perp", "eigengap")}}))
    if "warning" in report:
        print(f"graph-eigen: warning: {report['warning']}", file=sys.stderr)
    return 0


def _load_npy(path, what: str):
    """A .npy array (no pickled objects), or a ConfigError naming the file."""
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ConfigError(f"cannot read {what} '{path}': {str(exc).splitlines()[0] if str(exc) else exc}") from exc


def demo_command(args: argparse.Namespace) -> int:
    """Offline end to end on a synthetic graph: train, export, eval, probe."""
    from graph_eigen.data import load_dataset
    from graph_eigen.evaluate.probe import linear_probe
    from graph_eigen.evaluate.report import spectral_report
    from graph_eigen.io import save_json
    from graph_eigen.runs.fit import fit_run, run_config
    from graph_eigen.runs.folder import RunFolder

    out = Path(args.out)
    RunFolder(out, resume=False, overwrite=True).check()  # before the graph is built: only a run is replaced
    dataset = "sbm:n=5000,classes=5,avg_degree=20,features=32,seed=0"
    graph = load_dataset(dataset)
    cfg = run_config(dataset, {"dim": 5, "input_dim": 0}, graph)  # K = number of blocks: a wide eigengap
    emb = fit_run(cfg, graph, out, overwrite=True, progress=True).embedding
    report = spectral_report(emb, graph)
    save_json(out / EVAL, report)
    probe = linear_probe(emb, graph, seeds=3)
    save_json(out / PROBE, probe)
    print(json.dumps({"run_dir": str(out), "k": report["k"], "d_G": round(report["d_G"], 4),
                      "d_perp": round(report["d_perp"], 4), "kmeans": report.get("clustering_learned"),
                      "probe_accuracy": round(probe["accuracy_mean"], 2)}))
    return 0
