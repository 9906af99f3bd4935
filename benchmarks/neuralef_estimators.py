"""NeuralEF estimators compared on one graph: d_G to the exact eigenvectors along training.

Arguments are key=value pairs (defaults in brackets): ds [CS], k [9], enc [table], bs [0 = full
graph], fan [-1], lr [0.05], steps [1500], every [100], est [running: batch | running | bank],
opt [adam; sgd], mom [0.9], power [1], variant [ordered], bank_every [1000], hidden, layers.
The README's NeuralEF table came from:

    python benchmarks/neuralef_estimators.py steps=1500 bs=0 est=batch            # full graph
    python benchmarks/neuralef_estimators.py steps=3000 bs=2048 est=batch every=500
    python benchmarks/neuralef_estimators.py steps=3000 bs=2048 est=running every=500
    python benchmarks/neuralef_estimators.py steps=6000 bs=2048 est=running opt=sgd lr=250 every=2000
    python benchmarks/neuralef_estimators.py steps=18000 bs=2048 est=bank every=2000

Set GRAPH_EIGEN_DATA (or edit ROOT) to the shared datasets folder.
"""
import json
import os
import sys
import time
import warnings

import torch

from graph_eigen.data import load_dataset
from graph_eigen.eigsolve import exact_eigenpairs
from graph_eigen.encoders import EncoderConfig, build_encoder
from graph_eigen.evaluate.spectral import subspace_distance
from graph_eigen.objectives.neuralef import NeuralEF
from graph_eigen.sampling import BatchSampler

warnings.filterwarnings("ignore")
ROOT = os.environ.get("GRAPH_EIGEN_DATA", "../shared/datasets")

args = dict(a.split("=") for a in sys.argv[1:])
ds, k, enc = args.get("ds", "CS"), int(args.get("k", 9)), args.get("enc", "table")
bs, fan = int(args.get("bs", 0)), [int(v) for v in args.get("fan", "-1").split(",")]
lr, steps, every = float(args.get("lr", 0.05)), int(args.get("steps", 1500)), int(args.get("every", 100))
torch.manual_seed(0)
graph = load_dataset(ds, ROOT)
exact = exact_eigenpairs(graph, k).vectors
sampler = BatchSampler(graph, bs, fan, seed=0, with_features=enc != "table")
encoder = build_encoder(enc, graph, k, EncoderConfig(enc, int(args.get("hidden", 256)), int(args.get("layers", 2))))
objective = NeuralEF(k, variant=args.get("variant", "ordered"), power=int(args.get("power", 1)),
                     estimator=args.get("est", "running"), momentum=float(args.get("mom", 0.9)),
                     bank_every=int(args.get("bank_every", 1000)))
objective.setup(graph, sampler)
if args.get("opt") == "sgd":
    opt = torch.optim.SGD(encoder.parameters(), lr=lr)
elif enc == "table":
    opt = torch.optim.SparseAdam(encoder.parameters(), lr=lr)
else:
    opt = torch.optim.Adam(encoder.parameters(), lr=lr)
step, start = 0, time.perf_counter()
while step < steps:
    for batch in sampler.epoch():
        loss, metrics = objective.loss(batch, encoder(batch))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % every == 0 or step == steps:
            emb = encoder.embed_all(graph).numpy()
            encoder.train()
            print(json.dumps({"step": step, "seconds": round(time.perf_counter() - start, 1),
                              "d_G": round(subspace_distance(emb, exact), 4),
                              "eig": [round(v, 4) for v in metrics["eig"]]}), flush=True)
        if step >= steps:
            break
