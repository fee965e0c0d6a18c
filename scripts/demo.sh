#!/usr/bin/env bash
# The main job on the built-in demo data: make a synthetic tracked workspace, train a small
# nerfblend on it, score it on the held-out end of the clip, and show it: a picture of test frames
# (ground truth | prediction | error, PSNR on each) and a clip driven by the test frames' coefficients.
#
#   bash scripts/demo.sh               # after scripts/install.sh; STEPS=1000 by default
#
# 1000 steps: at 300 and 600 the head is still a blob (test PSNR 15.5 and 17.3 dB); at 1000 it has
# hair, brows and a mouth (about 20 dB); the whole demo takes about 7 minutes on a 2-core CPU (docs/quality.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${NERFBLEND_VENV:-$root/.venv}/bin
data=$root/data/demo
outputs=$root/outputs
steps=${STEPS:-1000}
# Every command through the launcher, which keeps known third-party deprecation warnings off the console.
run() { "$bin/python" -m nerfblend_ns.commands.launcher "$@"; }

run nerfblend-synthetic --output-dir "$data" --num-frames 60 --resolution 128
# The learning-rate schedules end with the run, whatever STEPS is.
run ns-train nerfblend-small --data "$data" --output-dir "$outputs" --timestamp demo \
    --vis tensorboard --max-num-iterations "$steps"
config=$outputs/demo/nerfblend-small/demo/config.yml
run ns-eval --load-config "$config" --output-path "$outputs/demo-eval.json"
run nerfblend-render summary --load-config "$config" --output-path "$outputs/demo-avatar.mp4"
"$bin/python" - "$outputs/demo-eval.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print("test split:", ", ".join(f"{k} {results[k]:.4f}" for k in ("psnr", "ssim", "lpips", "l1", "mse") if k in results))
PY
echo "demo: trained model in $(dirname "$config"), metrics in $outputs/demo-eval.json"
echo "demo: look at $outputs/demo-avatar.png (test frames) and $outputs/demo-avatar.mp4 (the avatar driven)"
