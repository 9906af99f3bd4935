"""`graph-eigen diagnose-batches`: batch-consistency distance of a sampling configuration."""
from __future__ import annotations

import argparse
import json

from graph_eigen.cli.parsing import add_dataset_args


def add_parsers(sub) -> None:
    p = sub.add_parser("diagnose-batches", help="aligned batch eigenvectors vs exact global ones")
    add_dataset_args(p)
    p.add_argument("--dim", type=int, default=9)
    p.add_argument("--batch-size", type=int, default=512, help="seeds per batch (anchors come on top)")
    p.add_argument("--fanouts", default="10", help="per-hop neighbors, e.g. 10,10")
    p.add_argument("--operator", default="sampled", choices=["sampled", "global", "knn"])
    p.add_argument("--anchors", type=int, default=256)
    p.add_argument("--batches", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the result here")


def diagnose_batches_command(args: argparse.Namespace) -> int:
    from graph_eigen.data import load_dataset
    from graph_eigen.errors import ConfigError
    from graph_eigen.evaluate.diagnose import batch_consistency
    from graph_eigen.io import save_json

    try:
        fanouts = [int(v) for v in args.fanouts.split(",")]
    except ValueError as exc:
        raise ConfigError(f"--fanouts must be integers like 10,5, got '{args.fanouts}'") from exc
    for name in ("batches", "dim", "anchors"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {args.seed}")
    graph = load_dataset(args.dataset, args.root)
    if args.operator == "knn" and graph.x is None:
        raise ConfigError(f"--operator knn needs node features; dataset '{graph.name}' has none")
    result = batch_consistency(graph, args.dim, args.batch_size, fanouts, args.operator, args.anchors,
                               args.batches, args.seed)
    if args.json:
        save_json(args.json, result)
    print(json.dumps({k: v for k, v in result.items() if k != "d_G_per_batch"}))
    return 0
