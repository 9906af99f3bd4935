#!/usr/bin/env bash
# Set up graph-eigen on a fresh CPU machine: a virtual environment (unless one is active),
# torch 2.13.0 (CPU), torch-scatter and torch-sparse built against it, then the package.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    . .venv/bin/activate
fi
python -m pip install -q --upgrade pip wheel setuptools
python -m pip install -q "torch==2.13.0"
# No wheels for this torch on the registry: build from source (about 7 minutes, then cached).
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
python -c "import torch_scatter, torch_sparse" 2>/dev/null \
    || python -m pip install -q --no-build-isolation torch-scatter torch-sparse
python -m pip install -q -e ".[test]"
python -c "import torch, torch_geometric, torch_sparse, ogb; print('graph-eigen ready: torch', torch.__version__)"
