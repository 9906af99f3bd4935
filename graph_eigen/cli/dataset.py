"""Sub-commands `info` (a dataset's size) and `exact` (exact eigenvectors of its operator)."""
from __future__ import annotations

import argparse
import json

from graph_eigen.cli.parsing import add_dataset_args
from graph_eigen.config import FEATURE_KNN_SOURCES


def add_parsers(sub) -> None:
    """Add `info` and `exact` to the parser."""
    p = sub.add_parser("info", help="print a dataset's size as JSON")
    add_dataset_args(p)

    p = sub.add_parser("exact", help="write the exact first-K eigenvectors of L_sym")
    add_dataset_args(p)
    p.add_argument("--dim", type=int, required=True, help="number of eigenvectors K")
    p.add_argument("--out", required=True, help="output .npy (n x K float32)")
    p.add_argument("--method", default="auto", choices=["auto", "dense", "eigsh", "lobpcg", "amg", "chebyshev"],
                   help="eigensolver; auto: dense up to 3,000 nodes, eigsh up to 200,000, chebyshev above "
                        "(auto solves are cached per graph, K and operator)")
    p.add_argument("--tol", type=float, default=0.0, help="residual tolerance (0: the solver's default)")
    p.add_argument("--device", default="auto", help="chebyshev solver: auto, cpu or cuda")
    p.add_argument("--laplacian", default="sym", choices=["sym", "rw", "unnormalized"])
    p.add_argument("--feature-knn", type=int, default=None,
                   help="add a kNN graph of the node features to the operator (as train --feature-knn); "
                        "default: train's default for the dataset (10 when it has features), 0: the graph alone")
    p.add_argument("--feature-knn-weight", type=float, default=1.0)
    p.add_argument("--feature-knn-source", choices=FEATURE_KNN_SOURCES, default="both",
                   help="features the kNN graph is found in (as train --feature-knn-source)")


def info_command(args: argparse.Namespace) -> int:
    from graph_eigen.data import load_dataset

    print(json.dumps(load_dataset(args.dataset, args.root).summary()))
    return 0


def exact_command(args: argparse.Namespace) -> int:
    import time

    from graph_eigen.data import load_dataset
    from graph_eigen.io import save_json, save_npy
    from graph_eigen.spectral.eigsolve import exact_eigenpairs

    from graph_eigen.graph.knn import with_feature_knn
    from graph_eigen.runs.presets import recommended_config

    graph = load_dataset(args.dataset, args.root)
    knn = args.feature_knn
    if knn is None:  # the operator `train` learns by default for this graph, so the two compare
        knn = recommended_config(args.dataset, graph.num_nodes, has_features=graph.x is not None).feature_knn
    graph = with_feature_knn(graph, knn, args.feature_knn_weight, args.feature_knn_source)
    start = time.perf_counter()
    from graph_eigen.device import resolve_device

    pairs = exact_eigenpairs(graph, args.dim, laplacian_kind=args.laplacian, method=args.method, tol=args.tol,
                             device=resolve_device(args.device))
    seconds = time.perf_counter() - start
    save_npy(args.out, pairs.vectors.astype("float32"))
    meta = {"dataset": graph.name, "k": args.dim, "laplacian": args.laplacian, "method": pairs.method,
            "operator": {"feature_knn": knn, "feature_knn_weight": args.feature_knn_weight,
                         "feature_knn_source": args.feature_knn_source} if knn else "the graph alone",
            "residual": pairs.residual, "eigenvalues": pairs.values.tolist(), "seconds": seconds}
    save_json(str(args.out) + ".json", meta)
    print(json.dumps(meta))
    return 0
