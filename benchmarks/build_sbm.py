"""Build the synthetic DC-SBM at ogbn-products scale and report time and peak memory.

    python benchmarks/build_sbm.py                 # sbm:preset=products
    python benchmarks/build_sbm.py --nodes 200000  # the products preset with fewer nodes

Prints its figures (no results file).
"""
from __future__ import annotations

import argparse
import logging
import time

from graph_eigen.data.synthetic import load_sbm
from harness import peak_rss_gib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=None, help="override the node count")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    spec = f"preset=products,seed={args.seed}"
    if args.nodes is not None:
        spec += f",n={args.nodes}"
    start = time.perf_counter()
    g = load_sbm(spec)
    seconds = time.perf_counter() - start
    peak_gib = peak_rss_gib()
    target = round(g.num_nodes * 50.5 / 2)
    print(f"spec            sbm:{spec}")
    print(f"nodes           {g.num_nodes:,}")
    print(f"edges           {g.num_edges:,} undirected ({g.num_edges / target:.2%} of the "
          f"{target:,} drawn; the rest were repeats or self-loops)")
    print(f"avg degree      {2 * g.num_edges / g.num_nodes:.2f}")
    print(f"max degree      {int(g.degree.max()):,}")
    print(f"components      {g.num_components:,} (largest {len(g.largest_component):,} nodes)")
    print(f"features        {g.num_features}, classes {g.num_classes}")
    print(f"build time      {seconds:.1f} s")
    print(f"peak RSS        {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
