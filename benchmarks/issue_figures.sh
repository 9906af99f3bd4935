#!/usr/bin/env bash
# The runs behind the README's NeuralEF / BASiS figures (each command as a user would type it).
# Usage: bash benchmarks/issue_figures.sh [DATA_ROOT]   (outputs in runs/figures/, logs in benchmarks/results/)
set -u
DATA=${1:-../shared/datasets}
OUT=runs/figures
RES=benchmarks/results
mkdir -p "$OUT" "$RES"
# These figures were made with the defaults of 2026-11-22 (GraphSAGE, K = 64, the graph alone);
# `train` gets them first, so the options of each line below still override them.
ge() {
  if [ "$1" = train ]; then shift; python -m graph_eigen train --encoder sage --dim 64 --feature-knn 0 --feature-knn-source raw "$@"
  else python -m graph_eigen "$@"; fi
}
log() { echo "== $*" >&2; }

log "mnist-knn: BASiS (kNN graph rebuilt over each batch of 512 = 128 anchors + 384 seeds), mlp"
ge train --dataset mnist-knn --root "$DATA" --objective basis --batch-operator knn --anchors 128 \
   --batch-size 384 --fanouts 1 --encoder mlp --hidden 512 --layers 3 --dim 10 --epochs 30 --lr 0.001 \
   --out $OUT/mnist_basis --overwrite --no-progress && ge eval $OUT/mnist_basis
log "mnist-knn: NeuralEF (bank), mlp"
ge train --dataset mnist-knn --root "$DATA" --objective neuralef --estimator bank --batch-size 512 --fanouts -1 \
   --encoder mlp --hidden 512 --layers 3 --dim 10 --epochs 30 --lr 0.001 \
   --out $OUT/mnist_neuralef --overwrite --no-progress && ge eval $OUT/mnist_neuralef

log "batch consistency, 1M-node SBM (9 classes, K=9), batches under 5% of the nodes"
for op in sampled global; do
  ge diagnose-batches --dataset "sbm:n=1000000,classes=9,avg_degree=20,features=16,seed=0" --dim 9 \
     --batch-size 2048 --fanouts 10 --anchors 256 --batches 3 --operator $op --json $RES/consistency_sbm1m_$op.json
done
for op in sampled global; do
  ge diagnose-batches --dataset CS --root "$DATA" --dim 9 --batch-size 256 --fanouts 1 --anchors 128 \
     --batches 3 --operator $op --json $RES/consistency_cs_$op.json
done

log "CS: NeuralEF (bank) with sage and mlp, K=9, operator K or ((I+K)/2)^p (README's NeuralEF/GNN table)"
for spec in "sage 1 40" "sage 8 40" "sage 8 100" "sage 64 100" "sage 256 100" "mlp 1 40"; do
  set -- $spec
  ge train --dataset CS --root "$DATA" --objective neuralef --estimator bank --encoder $1 --input-dim 128 --dim 9 --epochs $3 \
     --batch-size 1024 --fanouts 10,5 --lr 0.01 --power $2 --out $OUT/cs_neuralef_$1_p$2_e$3 --overwrite \
     --no-progress && ge eval $OUT/cs_neuralef_$1_p$2_e$3
done
ge train --dataset CS --root "$DATA" --objective neuralef --estimator bank --encoder sage --input-dim 128 --dim 9 --epochs 100 \
   --batch-size 1024 --fanouts 10,5 --lr 0.01 --power 64 --norm layer_norm --out $OUT/cs_neuralef_sage_p64_ln \
   --overwrite --no-progress && ge eval $OUT/cs_neuralef_sage_p64_ln

log "CS: probe at K = 256 (BASiS + sage defaults; exact eigenmap), with features, label ratios"
ge train --dataset CS --root "$DATA" --dim 256 --out $OUT/cs_basis_sage256 --overwrite --no-progress
ge exact --dataset CS --root "$DATA" --dim 256 --out $OUT/cs_exact256.npy
for target in $OUT/cs_basis_sage256 $OUT/cs_exact256.npy; do
  for ratio in 0.01 0.1 1.0; do
    ge probe $target --dataset CS --root "$DATA" --split random --seeds 5 --label-ratio $ratio
    ge probe $target --dataset CS --root "$DATA" --split random --seeds 5 --label-ratio $ratio --concat-features
  done
done

log "CS: out-of-sample: train BASiS sage on a random half, embed the full graph, d_G on the unseen half"
python - <<'PY'
import numpy as np
n = 18333
perm = np.random.default_rng(0).permutation(n)
np.save("runs/figures/cs_half_train.npy", np.sort(perm[: n // 2]))
np.save("runs/figures/cs_half_unseen.npy", np.sort(perm[n // 2:]))
PY
ge train --dataset CS --root "$DATA" --objective basis --encoder sage --input-dim 128 --dim 9 --epochs 40 \
   --batch-size 1024 --fanouts 10,5 --lr 0.01 --train-nodes $OUT/cs_half_train.npy \
   --out $OUT/cs_half_basis_sage --overwrite --no-progress \
   && ge embed $OUT/cs_half_basis_sage --dataset CS --root "$DATA" --out $OUT/cs_half_full_embedding.npy
ge eval $OUT/cs_half_basis_sage --dataset CS --root "$DATA" --embedding $OUT/cs_half_full_embedding.npy \
   --nodes $OUT/cs_half_unseen.npy

log "CS: out-of-sample with the whole graph as operator: seeds from the half only (--seed-nodes)"
ge train --dataset CS --root "$DATA" --objective basis --encoder sage --input-dim 128 --dim 9 --epochs 40 \
   --batch-size 1024 --fanouts 10,5 --lr 0.01 --seed-nodes $OUT/cs_half_train.npy \
   --out $OUT/cs_seedhalf_basis_sage --overwrite --no-progress
ge eval $OUT/cs_seedhalf_basis_sage --nodes $OUT/cs_half_unseen.npy
ge eval $OUT/cs_seedhalf_basis_sage --nodes $OUT/cs_half_train.npy

log "Photo and CS: the attributed operator (graph + feature kNN), learned (BASiS + sage defaults) and probed"
for spec in "Photo 10 1.0" "Photo 10 0.3" "Photo 20 1.0" "CS 10 1.0"; do
  set -- $spec
  ge train --dataset $1 --root "$DATA" --feature-knn $2 --feature-knn-weight $3 --out $OUT/$1_fknn$2_w$3 \
     --overwrite --no-progress
  ge probe $OUT/$1_fknn$2_w$3 --dataset $1 --root "$DATA" --split random --seeds 5
  ge probe $OUT/$1_fknn$2_w$3 --dataset $1 --root "$DATA" --split random --seeds 5 --concat-features
done
for spec in "Photo 10 0.3" "Photo 10 1.0" "Photo 10 3.0" "Photo 20 1.0" "CS 10 1.0"; do
  set -- $spec
  ge exact --dataset $1 --root "$DATA" --dim 64 --feature-knn $2 --feature-knn-weight $3 --out $OUT/$1_exact_fknn$2_w$3.npy
  ge probe $OUT/$1_exact_fknn$2_w$3.npy --dataset $1 --root "$DATA" --split random --seeds 5
  ge probe $OUT/$1_exact_fknn$2_w$3.npy --dataset $1 --root "$DATA" --split random --seeds 5 --concat-features
done

log "CS: NeuralEF with the targets estimator (the default), K = 9: encoders, filters, options"
cs9() {  # name, then train options
  local name=$1; shift
  ge train --dataset CS --root "$DATA" --objective neuralef --input-dim 128 --dim 9 --batch-size 1024 \
     --fanouts 10,5 --lr 0.01 --out $OUT/cs_targets_$name --overwrite --no-progress "$@" && ge eval $OUT/cs_targets_$name
}
for seed in 0 1 2; do cs9 sage_s$seed --encoder sage --epochs 40 --seed $seed; done
cs9 sage_e80 --encoder sage --epochs 80
cs9 sage_power256_e80 --encoder sage --epochs 80 --target-filter power
for p in 64 256 1024; do cs9 sage_power${p} --encoder sage --epochs 40 --target-filter power --power $p; done
for seed in 1 2; do cs9 sage_power256_s$seed --encoder sage --epochs 40 --target-filter power --seed $seed; done
cs9 sage_every2 --encoder sage --epochs 40 --target-filter power --target-every 36
cs9 sage_inference --encoder sage --epochs 40 --target-filter power --target-source inference
cs9 sage_cheb32 --encoder sage --epochs 40 --power 32
for enc in gcn mlp; do
  cs9 $enc --encoder $enc --epochs 40
  cs9 ${enc}_power256 --encoder $enc --epochs 40 --target-filter power
done
cs9 table_power256 --encoder table --epochs 40 --lr 0.05 --target-filter power
log "CS: NeuralEF targets, out of sample: seeds from a random half (whole graph as operator); induced half"
for filter in chebyshev power; do
  cs9 seedhalf_$filter --encoder sage --epochs 40 --target-filter $filter --target-source inference \
      --seed-nodes $OUT/cs_half_train.npy
  ge eval $OUT/cs_targets_seedhalf_$filter --nodes $OUT/cs_half_unseen.npy
  ge eval $OUT/cs_targets_seedhalf_$filter --nodes $OUT/cs_half_train.npy
done
cs9 inducedhalf --encoder sage --epochs 40 --target-filter power --train-nodes $OUT/cs_half_train.npy \
   && ge embed $OUT/cs_targets_inducedhalf --dataset CS --root "$DATA" --out $OUT/cs_targets_inducedhalf_full.npy
ge eval $OUT/cs_targets_inducedhalf --dataset CS --root "$DATA" --embedding $OUT/cs_targets_inducedhalf_full.npy \
   --nodes $OUT/cs_half_unseen.npy
log "NeuralEF targets: probe at K = 64 (sage, recommended settings otherwise), both filters"
for ds in CS Photo; do
  for filter in chebyshev power; do
    run=$OUT/${ds}_neuralef_targets64_$filter
    ge train --dataset $ds --root "$DATA" --objective neuralef --target-filter $filter --out $run --overwrite --no-progress
    ge probe $run --dataset $ds --root "$DATA" --split random --seeds 5
    ge probe $run --dataset $ds --root "$DATA" --split random --seeds 5 --concat-features
    ge eval $run
  done
done
log "NeuralEF targets: exact-fit filter comparison and refresh cost at 1M nodes"
python benchmarks/targets_filters.py --root "$DATA"
python benchmarks/bank_update.py --nodes 1000000 --products 256 --filter power
python benchmarks/bank_update.py --nodes 1000000 --products 64 --filter chebyshev
