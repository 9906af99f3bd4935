"""Export speed (nodes per second) of each encoder by whole-graph sparse products.

    python benchmarks/export_speed.py --nodes 1000000 --json benchmarks/results/export_speed_1000000.json

The encoders are untrained (export costs the same), built with the library's defaults for the
graph's size except for the encoder: 2 layers, hidden 256, K = 64, features projected to 128.
The time includes the projection of the features and, for ``sign``, their propagation.
"""
from __future__ import annotations

import argparse
import json
import logging
import time

import torch

from graph_eigen.data import load_dataset
from graph_eigen.io import save_json
from graph_eigen.model.encoders import EncoderConfig, build_encoder
from harness import peak_rss_gib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="sbm:preset=products", help="registry name (default %(default)s)")
    parser.add_argument("--nodes", type=int, default=None, help="an SBM of the products family with this many nodes")
    parser.add_argument("--encoders", nargs="+", default=["sage", "gcn", "sign", "mlp"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    dataset = args.dataset if args.nodes is None else f"{args.dataset},n={args.nodes}"
    graph = load_dataset(dataset)
    result = {"dataset": dataset, "nodes": graph.num_nodes, "edges": graph.num_edges,
              "threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "encoders": {}}
    for name in args.encoders:
        encoder = build_encoder(name, graph, 64, EncoderConfig(name, hidden=256, layers=2, input_dim=128))
        start = time.perf_counter()
        out = encoder.embed_all(graph)
        seconds = time.perf_counter() - start
        assert out.shape == (graph.num_nodes, 64)
        result["encoders"][name] = {"seconds": round(seconds, 1), "nodes_per_second": round(graph.num_nodes / seconds),
                                    "peak_rss_gib": round(peak_rss_gib(), 2)}
        print(name, json.dumps(result["encoders"][name]), flush=True)
    if args.json:
        save_json(args.json, result)


if __name__ == "__main__":
    main()
