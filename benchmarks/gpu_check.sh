#!/usr/bin/env bash
# A small train + export + eval on CUDA and on the CPU; prints both d_G values and epoch times.
#
#   bash benchmarks/gpu_check.sh            # on a machine with a CUDA GPU
#   PYTHON=.venv/bin/python NODES=50000 bash benchmarks/gpu_check.sh
#
# The run uses the large-graph path (sign encoder, NeuralEF targets, seed-only batches), which
# imports neither torch-sparse nor pyg-lib nor ogb, so it runs where only torch and
# torch-geometric are installed. The graph is an SBM with K = classes (a wide eigengap).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
NODES=${NODES:-200000}
EPOCHS=${EPOCHS:-5}
DATASET="sbm:n=${NODES},classes=10,avg_degree=20,features=32,seed=0"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
devices=${DEVICES:-cuda cpu}
for device in $devices; do
    run="$WORK/$device"
    start=$(date +%s.%N)
    "$PY" -m graph_eigen train --dataset "$DATASET" --encoder sign --objective neuralef --dim 10 --feature-knn 0 \
        --epochs "$EPOCHS" --batch-size 8192 --power 16 --lr 0.003 --device "$device" --out "$run" \
        --no-progress > "$WORK/train_$device.json"
    end=$(date +%s.%N)
    "$PY" -m graph_eigen eval "$run" --dim 10 > "$WORK/eval_$device.json"
    "$PY" - "$run" "$start" "$end" "$EPOCHS" "$device" <<'PY'
import json, sys
run, start, end, epochs, device = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
report = json.load(open(f"{run}/eval.json"))
steps = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
step_seconds = sum(r.get("seconds", 0.0) for r in steps)
print(json.dumps({"device": device, "d_G": round(report["d_G"], 4), "epochs": epochs,
                  "train_seconds_wall": round(end - start, 1),
                  "epoch_seconds_steps": round(step_seconds / epochs, 2)}))
PY
done
