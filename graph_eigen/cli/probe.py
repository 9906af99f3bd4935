"""Sub-commands `probe` (linear-probe node classification) and `plot` (PNGs of a run)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from graph_eigen.cli.parsing import add_dataset_args
from graph_eigen.errors import CheckpointError, ConfigError
from graph_eigen.runs.checkpoint import load_config
from graph_eigen.runs.folder import EMBEDDINGS, PROBE
from graph_eigen.runs.inputs import judges_another_dataset, load_graph, run_graph, run_operator


def add_parsers(sub) -> None:
    """Add `probe` and `plot` to the parser."""
    p = sub.add_parser("probe", help="linear-probe node classification of an embedding; writes probe.json")
    p.add_argument("target", help="a run folder (uses its embeddings.npy and dataset) or an embedding .npy")
    add_dataset_args(p, required=False)
    p.add_argument("--split", default=None, choices=["official", "random"],
                   help="default: official for ogbn-* datasets that have one, else random")
    p.add_argument("--train-frac", type=float, default=0.1, help="random split: training fraction")
    p.add_argument("--val-frac", type=float, default=0.1, help="random split: validation fraction")
    p.add_argument("--seeds", type=int, default=5, help="number of seeds (splits / label subsets)")
    p.add_argument("--label-ratio", type=float, default=1.0, help="fraction of training labels kept")
    p.add_argument("--stratify", action="store_true", help="random split: draw per class")
    p.add_argument("--dims", type=int, default=None, help="use only the first DIMS columns")
    p.add_argument("--concat-features", action="store_true",
                   help="also probe the embedding with the raw node features appended (reported beside it)")
    p.add_argument("--device", default="auto", help="where the classifier is fit: auto, cpu or cuda")
    p.add_argument("--truncation", action="store_true", help="also probe the first 1, 2, 4, ..., K dims")
    p.add_argument("--baselines", action="store_true",
                   help="also probe raw features, SGC, a random encoder, the exact eigenmap and "
                        "scikit-learn's SpectralEmbedding")

    p = sub.add_parser("plot", help="write PNGs of a run (curves, spectrum, truncation, 2-D view)")
    p.add_argument("run_dir")
    add_dataset_args(p, required=False)


def _resolve_target(args: argparse.Namespace):
    """(embedding path, output path, run config or None, dataset name, root)."""
    target = Path(args.target)
    if target.is_dir():
        cfg = load_config(target)
        emb_path = target / EMBEDDINGS
        if not emb_path.is_file():
            raise CheckpointError(f"no embeddings.npy in '{target}': run `graph-eigen embed {target}` first")
        if judges_another_dataset(cfg, args.dataset, args.root):
            raise ConfigError(f"the run's embedding belongs to its dataset '{cfg.dataset}', not '{args.dataset}': "
                              f"embed that graph first (graph-eigen embed {target} --dataset {args.dataset} "
                              f"--out other.npy) and probe the file (graph-eigen probe other.npy --dataset ...)")
        return emb_path, target / PROBE, cfg, cfg.dataset, cfg.root
    if target.suffix != ".npy":
        raise ConfigError(f"'{target}' is neither a run folder nor an embedding .npy file")
    if not target.is_file():
        raise ConfigError(f"embedding file '{target}' not found")
    if not args.dataset:
        raise ConfigError("--dataset is required when probing an .npy file")
    return target, target.with_suffix(".probe.json"), None, args.dataset, args.root


def probe_command(args: argparse.Namespace) -> int:
    import numpy as np

    from graph_eigen.evaluate.baselines import probe_baselines
    from graph_eigen.evaluate.probe import linear_probe, truncation_curve
    from graph_eigen.io import save_json

    emb_path, out, cfg, dataset, root = _resolve_target(args)
    try:
        emb = np.load(emb_path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read embedding '{emb_path}': {exc}") from exc
    if cfg is None:  # an embedding file: the dataset named on the command line
        graph = load_graph(dataset, root)
    else:  # a run: its graph (or --dataset's) without the operator options, as it always was probed
        graph = run_graph(cfg, operator=False)
    split = args.split
    if split is None:
        is_ogb = dataset.lower().startswith("ogbn-") or graph.name.lower().startswith("ogbn-")
        split = "official" if graph.split is not None and is_ogb else "random"
    from graph_eigen.device import resolve_device

    kwargs = dict(split=split, train_frac=args.train_frac, val_frac=args.val_frac, seeds=args.seeds,
                  label_ratio=args.label_ratio, stratify=args.stratify, device=str(resolve_device(args.device)))
    result = linear_probe(emb, graph, dims=args.dims, **kwargs)
    result.update(embedding=str(emb_path.resolve()), dataset=dataset, dims_probed=int(args.dims or emb.shape[1]))
    if graph.label_names:
        result["label_names"] = list(graph.label_names)  # the class of each label id
    summary = {k: result[k] for k in ("accuracy_mean", "accuracy_std", "split", "train_size",
                                      "val_size", "test_size", "dims", "seconds")}
    if args.concat_features:
        result["with_features"] = linear_probe(emb, graph, dims=args.dims, concat_features=True, **kwargs)
        summary["with_features"] = {k: result["with_features"][k] for k in ("accuracy_mean", "accuracy_std")}
    if args.truncation:
        result["truncation"] = truncation_curve(emb, graph, max_dim=args.dims, **kwargs)
        summary["truncation"] = dict(zip(result["truncation"]["dims"],
                                         result["truncation"]["accuracy_mean"]))
    if args.baselines:
        dim = int(args.dims or emb.shape[1])
        operator = run_operator(cfg, graph) if cfg is not None else None  # the run's, to compare with
        result["baselines"] = probe_baselines(graph, dim, run_config=cfg, run_graph=operator, **kwargs)
        summary["baselines"] = {k: v["accuracy_mean"] for k, v in result["baselines"].items()}
    save_json(out, result)
    print(json.dumps({"out": str(out), **summary}))
    return 0


def plot_command(args: argparse.Namespace) -> int:
    from graph_eigen.evaluate.plots import plot_run

    labels = None
    if args.dataset:
        graph = load_graph(args.dataset, args.root)
        labels = None if graph.y is None else graph.y.numpy()
    paths = plot_run(args.run_dir, labels=labels)
    print(json.dumps({"plots": [str(p) for p in paths]}))
    return 0
