#!/usr/bin/env bash
# The large-graph job (benchmarks/pipeline.py: load, kNN operator, fit, export, probe) on CUDA and
# on the CPU, one after the other; prints each run's total and stage times and its probe.
#
#   bash benchmarks/gpu_check.sh                      # on a machine with a CUDA GPU
#   NODES=1000000 DEVICES="cuda" bash benchmarks/gpu_check.sh
#
# Needs what the pipeline needs: the package with faiss-cpu, and the base graph of the tiled
# dataset under ROOT (default ../shared/datasets). NO_EXACT=1 (the default) skips the exact
# eigenmap baseline, whose solve is the longest part on a CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
NODES=${NODES:-250000}
DATASET=${DATASET:-tiled:CS}
ROOT=${ROOT:-../shared/datasets}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
extra=""
[ "${NO_EXACT:-1}" = "1" ] && extra="--no-exact"
for device in ${DEVICES:-cuda cpu}; do
    "$PY" benchmarks/pipeline.py --dataset "$DATASET" --root "$ROOT" --nodes "$NODES" --device "$device" \
        $extra --json "$WORK/$device.json" > "$WORK/$device.log" 2>&1
    "$PY" - "$WORK/$device.json" "$device" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"device": sys.argv[2], "nodes": r["nodes"], "total_seconds": r["total_seconds"],
                  "stages": r["stages"], "probe": r["probe_accuracy"],
                  "sgc": r["baselines"].get("sgc", {}).get("accuracy_mean")}))
PY
done
