"""Cost of the NeuralEF bank estimators' statistics on the products-like SBM (K = 64).

Times and peak memory of, for the ``bank`` estimator: the set-up (kernel and bank), the first
step (a whole-graph recomputation of H^T K H and the norms) and an incremental step (1,024
seeds); for the ``targets`` estimator: one refresh of the targets with P whole-graph products
(``--filter power``: ((I + K) / 2)^P, or ``chebyshev``: degree P, P = ``--products``), then the
QR factorization. The steps call ``NeuralEF.bank_statistics`` alone: ``loss`` (training mode)
runs it plus the rest of the loss, which added about 50% to the incremental step at 100,000
nodes, and the figure wanted is the statistics alone. ``bank_update_1000000_targets.txt`` holds the output of

    python benchmarks/bank_update.py --nodes 1000000 --products 64 --filter chebyshev
    python benchmarks/bank_update.py --nodes 1000000 --products 256 --filter power
"""
import argparse
import time
import types

import torch

from graph_eigen.data import load_dataset
from graph_eigen.model.objectives.neuralef import NeuralEF
from graph_eigen.model.objectives.neuralef_targets import NeuralEFTargets
from harness import peak_rss_gib, reset_peak_rss


def timed(label: str, fn) -> None:
    reset_peak_rss()
    before, start = peak_rss_gib(), time.perf_counter()
    fn()
    print(f"{label}: {time.perf_counter() - start:.3f} s, peak {peak_rss_gib():.2f} GiB (before {before:.2f})")


def main(n: int, power: int, target_filter: str) -> None:
    graph = load_dataset(f"sbm:preset=products,seed=0,n={n}")
    objective = NeuralEF(64, estimator="bank")
    timed("set-up", lambda: objective.setup(graph, None))
    objective.bank.normal_()
    objective.bank_filled.fill_(True)

    def step():
        batch = types.SimpleNamespace(num_seeds=1024, n_id=torch.randperm(n)[:1024])
        objective.bank_statistics(batch, torch.randn(1024, 64))

    timed("first step (whole-graph recomputation)", step)
    timed("incremental step", step)

    objective = None  # frees the bank and the kernel before the targets estimator's set-up
    targets = NeuralEFTargets(64, power=power, filter=target_filter)
    targets.setup(graph, types.SimpleNamespace(steps_per_epoch=1))
    timed(f"targets estimator: one refresh, {target_filter} filter, {power} products", targets.refresh_targets)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="SBM nodes (default %(default)s)")
    parser.add_argument("--products", type=int, default=256,
                        help="whole-graph products per targets refresh (default %(default)s)")
    parser.add_argument("--filter", default="power", choices=("power", "chebyshev"),
                        help="the targets estimator's filter (default %(default)s)")
    args = parser.parse_args()
    main(args.nodes, args.products, args.filter)
