#!/usr/bin/env bash
# Training speed of nerfblend on 1, 2, 4... GPUs of one machine (nerfstudio's DDP, a process per GPU).
#
#   scripts/benchmark_multi_gpu.sh WORKSPACE [GPU_COUNT ...]        (GPU counts default to 1 2 4)
#
# Environment: STEPS (default 4000), OUT (default outputs/multi_gpu), PSNR (thresholds, default "24 26 28"),
# METHOD (default nerfblend; nerfblend-small with GPU count 1 smoke-tests the script on a CPU).
# Prints steps/s, rays/s and the seconds until rank 0's training PSNR reaches each threshold, one row
# per GPU count, then the test-split PSNR of each run's last checkpoint. Each rank trains its own batch,
# so a step of an N-GPU run sees N times the rays of a 1-GPU step: compare rays/s and time to PSNR.
set -euo pipefail

if [ $# -lt 1 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
data=$(realpath "$1")
shift
cd "$(dirname "${BASH_SOURCE[0]}")/.."
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 2 4)
steps=${STEPS:-4000}
method=${METHOD:-nerfblend}
out=${OUT:-outputs/multi_gpu}
read -r -a thresholds <<< "${PSNR:-24 26 28}"

runs=()
for count in "${counts[@]}"; do
    # No evaluation during training: every rank would run it, and it would count as training time.
    .venv/bin/ns-train "$method" --data "$data" --output-dir "$out" --experiment-name multi_gpu \
        --timestamp "gpus$count" --vis tensorboard --machine.num-devices "$count" \
        --max-num-iterations "$steps" --steps-per-eval-batch 0 --steps-per-eval-image 0 \
        --steps-per-eval-all-images 0
    runs+=("$out/multi_gpu/$method/gpus$count")
done

.venv/bin/python -m nerfblend_ns.benchmarks.training_events "${runs[@]}" --psnr "${thresholds[@]}"
for run in "${runs[@]}"; do
    .venv/bin/ns-eval --load-config "$run/config.yml" --output-path "$run/eval.json" > /dev/null
    .venv/bin/python -c 'import json, sys; print(sys.argv[1], "test PSNR", round(json.load(open(sys.argv[1] + "/eval.json"))["results"]["psnr"], 2))' "$run"
done
