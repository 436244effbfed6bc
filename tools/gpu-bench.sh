#!/usr/bin/env bash
# The GPU benches of issue 25, as one script for a lent device machine (an H100 or H200): run it
# from the repository root there; every figure lands in $OUT (default ./gpu-bench) as JSON, one
# file a command, and the machine's card in gpu.txt. Copy the figures to BENCHMARKS.md with the
# card, and say which card gave them.
#
# 1. llama-cpp-python built with CUDA (about 5 minutes on 16 cores; pip reuses a built wheel).
# 2. The embedded model with the shipped adapter at 5 and 20 creatures (goal: <= 40 ms per
#    agent-turn at 20), and the bare model at 20 for the ratio.
# 3. A Llama-3.2-3B-shaped file (random weights) at 20 creatures (goal: <= 60 ms per agent-turn).
set -euo pipefail
OUT="${OUT:-gpu-bench}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" || true
python3 -m venv .venv-gpu
CMAKE_ARGS="-DGGML_CUDA=on -DGGML_CUDA_NO_VMM=ON" .venv-gpu/bin/pip install -q -e . 2>&1 | tail -n 3
T=.venv-gpu/bin/ttwood
$T bench llm --creatures 5 --turns 4 --adapter shipped --gpu-layers -1 --json > "$OUT/adapter-5.json"
$T bench llm --creatures 20 --turns 4 --adapter shipped --gpu-layers -1 --json > "$OUT/adapter-20.json"
$T bench llm --creatures 20 --turns 4 --gpu-layers -1 --json > "$OUT/bare-20.json"
$T bench make-model --out "$OUT/m.gguf"
$T bench llm --creatures 20 --turns 2 --gpu-layers -1 --model "$OUT/m.gguf" --json > "$OUT/llama-3b-shape-20.json"
rm -f "$OUT/m.gguf"
echo "done: $OUT"
