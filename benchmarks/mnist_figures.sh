#!/usr/bin/env bash
# The pixel graph mnist-knn (K=10; not the BASiS paper's setting, see docs/basis.md): BASiS (kNN graph rebuilt over each batch of 512 =
# 128 anchors + 384 seeds) and NeuralEF, both with an MLP on the pixels; eval.json has d_G,
# d_perp and KMeans NMI/ACC of the learned and of the exact eigenvectors.
# Usage: bash benchmarks/mnist_figures.sh [DATA_ROOT]
set -eu
DATA=${1:-../shared/datasets}
OUT=runs/figures
# These figures were made with the defaults of 2026-11-22 (GraphSAGE, K = 64, the graph alone);
# `train` gets them first, so the options of each line below still override them.
ge() {
  if [ "$1" = train ]; then shift; python -m graph_eigen train --encoder sage --dim 64 --feature-knn 0 --feature-knn-source raw "$@"
  else python -m graph_eigen "$@"; fi
}
ge train --dataset mnist-knn --root "$DATA" --objective basis --batch-operator knn --anchors 128 \
   --batch-size 384 --fanouts 1 --encoder mlp --hidden 512 --layers 3 --dim 10 --epochs 30 --lr 0.001 \
   --out $OUT/mnist_basis --overwrite --no-progress
ge eval $OUT/mnist_basis
ge train --dataset mnist-knn --root "$DATA" --objective neuralef --estimator bank --batch-size 512 --fanouts -1 \
   --encoder mlp --hidden 512 --layers 3 --dim 10 --epochs 30 --lr 0.001 \
   --out $OUT/mnist_neuralef --overwrite --no-progress
ge eval $OUT/mnist_neuralef
ge train --dataset mnist-knn --root "$DATA" --objective basis --batch-operator global --anchors 128 \
   --batch-size 384 --fanouts 1 --encoder mlp --hidden 512 --layers 3 --dim 10 --epochs 30 --lr 0.001 \
   --out $OUT/mnist_basis_global --overwrite --no-progress
ge eval $OUT/mnist_basis_global
ge train --dataset mnist-knn --root "$DATA" --objective neuralef --batch-size 512 --fanouts -1 \
   --encoder mlp --hidden 512 --layers 3 --dim 10 --epochs 30 --lr 0.001 \
   --out $OUT/mnist_neuralef_targets --overwrite --no-progress     # the default estimator: targets
ge eval $OUT/mnist_neuralef_targets
