#!/usr/bin/env bash
# The GPU check of issue 16, at most 5 minutes on one GPU, no download: the CUDA tests (tests/gpu, and the
# selection's no-synchronisation test), then StudioGAN's CIFAR10 DCGAN and BigGAN generators dense vs SLT k = 0.1
# (s/step and peak memory ratios), a ticket's export/load time and the mask selection variants (s/step,
# synchronisations per step), printed as tables (benchmarks/gpu_check.py).
#
#   STUDIOGAN_ROOT=/path/to/PyTorch-StudioGAN benchmarks/gpu_check.sh [--cpu] [gpu_check.py options]
#
# --cpu runs it all on CPU with tiny step counts (batch 4, 2 timed steps), so the script is known to work before a
# GPU is at hand; the CUDA tests then skip. Each stage has its own time limit, so the whole stays within 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${STUDIOGAN_ROOT:-}" ]; then
    echo "gpu_check: set STUDIOGAN_ROOT to a PyTorch-StudioGAN checkout" >&2
    exit 2
fi
device=(--device cuda)
options=()
for arg in "$@"; do
    if [ "$arg" = "--cpu" ]; then
        device=(--device cpu --batch 4 --repeats 2 --warmup 1)
    else
        options+=("$arg")
    fi
done
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
echo "== CUDA tests (tests/gpu, tests/supermask/test_sync.py; they skip without a GPU)"
timeout 100 python -m pytest -q -p no:cacheprovider tests/gpu tests/supermask/test_sync.py
echo "== dense vs SLT k=0.1, StudioGAN CIFAR10 generators"
timeout 190 python benchmarks/gpu_check.py "${device[@]}" ${options[@]+"${options[@]}"}
