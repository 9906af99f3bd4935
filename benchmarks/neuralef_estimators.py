"""NeuralEF estimators compared on one graph: d_G to the exact eigenvectors along training.

Prints one JSON line every ``--every`` steps (step, seconds, d_G, the eigenvalue estimates); no
results file. The README's NeuralEF table (docs/neuralef.md, docs/results.md) came from:

    python benchmarks/neuralef_estimators.py --steps 1500 --batch-size 0 --estimator batch     # full graph
    python benchmarks/neuralef_estimators.py --steps 3000 --batch-size 2048 --estimator batch --every 500
    python benchmarks/neuralef_estimators.py --steps 3000 --batch-size 2048 --estimator running --every 500
    python benchmarks/neuralef_estimators.py --steps 6000 --batch-size 2048 --estimator running --optimizer sgd \\
        --lr 250 --every 2000
    python benchmarks/neuralef_estimators.py --steps 18000 --batch-size 2048 --estimator bank --every 2000

(before the argparse options: ``steps=1500 bs=0 est=batch`` and so on). The loop is this
script's own, not ``graph_eigen.runs.recorder``: it evaluates d_G during training and sets the
optimizer itself (SparseAdam for the ``table`` encoder, or plain SGD). ``--root`` defaults to
``$GRAPH_EIGEN_DATA``, else ``../shared/datasets``.
"""
import argparse
import json
import os
import time
import warnings

import torch

from graph_eigen.data import load_dataset
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.graph.sampling import BatchSampler
from graph_eigen.model.encoders import EncoderConfig, build_encoder
from graph_eigen.model.objectives.neuralef import NeuralEF
from graph_eigen.spectral.eigsolve import exact_eigenpairs


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("GRAPH_EIGEN_DATA", "../shared/datasets"),
                        help="the datasets folder (default: $GRAPH_EIGEN_DATA, else ../shared/datasets)")
    parser.add_argument("--dataset", default="CS", help="registry name (default %(default)s)")
    parser.add_argument("--k", type=int, default=9, help="eigenpairs (default %(default)s)")
    parser.add_argument("--encoder", default="table", help="encoder (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=0, help="seeds per batch; 0 = full graph (default)")
    parser.add_argument("--fanouts", default="-1", help="comma-separated fanouts; -1 = all neighbors (default)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate (default %(default)s)")
    parser.add_argument("--steps", type=int, default=1500, help="training steps (default %(default)s)")
    parser.add_argument("--every", type=int, default=100, help="evaluate d_G every this many steps (default %(default)s)")
    parser.add_argument("--estimator", default="running", choices=("batch", "running", "bank"),
                        help="NeuralEF estimator (default %(default)s)")
    parser.add_argument("--optimizer", default="adam", choices=("adam", "sgd"),
                        help="adam (SparseAdam for the table encoder) or sgd (default %(default)s)")
    parser.add_argument("--momentum", type=float, default=0.9, help="of the running statistics (default %(default)s)")
    parser.add_argument("--power", type=int, default=1, help="operator power (default %(default)s)")
    parser.add_argument("--variant", default="ordered", choices=("ordered", "eigenmap"),
                        help="NeuralEF variant (default %(default)s)")
    parser.add_argument("--bank-every", type=int, default=1000,
                        help="bank estimator: full recomputation every this many steps (default %(default)s)")
    parser.add_argument("--hidden", type=int, default=256, help="encoder width (default %(default)s)")
    parser.add_argument("--layers", type=int, default=2, help="encoder layers (default %(default)s)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    k, enc = args.k, args.encoder
    fan = [int(v) for v in args.fanouts.split(",")]
    torch.manual_seed(0)
    graph = load_dataset(args.dataset, args.root)
    exact = exact_eigenpairs(graph, k).vectors
    sampler = BatchSampler(graph, args.batch_size, fan, seed=0, with_features=enc != "table")
    encoder = build_encoder(enc, graph, k, EncoderConfig(enc, args.hidden, args.layers))
    objective = NeuralEF(k, variant=args.variant, power=args.power, estimator=args.estimator,
                         momentum=args.momentum, bank_every=args.bank_every)
    objective.setup(graph, sampler)
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(encoder.parameters(), lr=args.lr)
    elif enc == "table":
        opt = torch.optim.SparseAdam(encoder.parameters(), lr=args.lr)
    else:
        opt = torch.optim.Adam(encoder.parameters(), lr=args.lr)
    step, start = 0, time.perf_counter()
    while step < args.steps:
        for batch in sampler.epoch():
            loss, metrics = objective.loss(batch, encoder(batch))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % args.every == 0 or step == args.steps:
                emb = encoder.embed_all(graph).numpy()
                encoder.train()
                print(json.dumps({"step": step, "seconds": round(time.perf_counter() - start, 1),
                                  "d_G": round(subspace_distance(emb, exact), 4),
                                  "eig": [round(v, 4) for v in metrics["eig"]]}), flush=True)
            if step >= args.steps:
                break


if __name__ == "__main__":
    main()
