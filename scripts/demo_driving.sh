#!/usr/bin/env bash
# Drives a trained avatar with another person's tracked video and films it from novel views
# (paper Figs. 6, 9, 11, 10): reenactment videos, an orbit, the bases, ground truth | prediction
# on the test split, and the neutral head's mesh.
#
#   bash scripts/demo_driving.sh CONFIG DRIVING [OUT]
#
# CONFIG   config.yml of a trained nerfblend run, e.g. one trained on /tmp/tracked/expressive.
#          Run from the folder ns-train ran in: the run's relative paths resolve from there.
# DRIVING  a tracked workspace with the same expression coefficients, e.g. /tmp/tracked/talking
#          (both have the 51 ARKit coefficients).
# OUT      folder for the results (default: demo-driving).
#
# MAX_FRAMES=n limits the reenactments to the first n driving frames; FORMAT=png (or both) writes
# PNG frames instead of (or beside) the MP4s, for a Python without PyAV.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${NERFBLEND_VENV:-$root/.venv}/bin/python
config=$1
driving=$2
out=${3:-demo-driving}
limit=()
[[ -n ${MAX_FRAMES:-} ]] && limit=(--max-frames "$MAX_FRAMES")
start=$SECONDS

# Through the launcher, which keeps known third-party deprecation warnings off the console.
render() { "$py" -m nerfblend_ns.commands.launcher nerfblend-render "$@"; }
video() { render "$@" --output-format "${FORMAT:-mp4}"; }

video reenact --load-config "$config" --driving "$driving" "${limit[@]}" --output-path "$out/reenact.mp4"
video reenact --load-config "$config" --driving "$driving" "${limit[@]}" --use-driving-poses \
    --output-path "$out/reenact-driving-poses.mp4"
video orbit --load-config "$config" --frame 0 --yaw-degrees 30 --num-frames 90 --output-path "$out/orbit.mp4"
render bases --load-config "$config" --output-path "$out/bases.png"
video compare --load-config "$config" --output-path "$out/compare.mp4"
"$py" -m nerfblend_ns.commands.launcher nerfblend-export-mesh --load-config "$config" --output "$out/neutral.ply" --resolution 256

echo "demo_driving: results in $out ($((SECONDS - start)) s)"
ls -l "$out"
