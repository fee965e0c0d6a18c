#!/usr/bin/env bash
# Packs what a GPU machine without network access needs to train, evaluate and benchmark nerfblend from a
# checkout, when it already has Python, a CUDA torch with Triton, torchvision, numpy, scipy, Pillow, OpenCV,
# matplotlib, rich, PyYAML and tqdm, as GPU images of PyTorch do (docs/installing.md).
#
#   bash scripts/offline_bundle.sh DIR [PYTHON_VERSION]   # on a machine with network: wheels + LPIPS weights into DIR
#   source DIR/activate.sh                                # on the GPU machine, in the checkout: installs once, sets paths
#
# The LPIPS backbone travels in half precision (half the size; LPIPS distances agree to 4 decimals) and is
# restored to float32 on arrival. DIR/activate.sh registers the checkout's methods with nerfstudio without
# installing the checkout, so that an edited checkout runs as it is.
set -euo pipefail

dir=${1:?usage: offline_bundle.sh DIR [PYTHON_VERSION]}
pyver=${2:-3.12}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
mkdir -p "$dir/wheels"

# What ns-train and the benchmarks import beyond such an image (pinned as scripts/install.sh resolves them).
requirements=(
    nerfstudio==1.1.5 nerfacc==0.5.3 gsplat==1.4.0 viser==0.2.7 tyro==1.0.17 docstring_parser==0.18.0 shtab==1.13.0
    typeguard==4.6.1 jaxtyping==0.3.11 wadler_lindig==0.1.8 torchmetrics==1.9.0 lightning-utilities==0.15.3
    torch_fidelity==0.4.0 pytorch-msssim==1.0.0 tensorly==0.10.0 tensorboard==2.20.0 rawpy==0.28.0 fpsample==0.3.3
    msgspec==0.23.0 websockets==17.4 pyquaternion==0.9.9 splines==0.3.0 mediapy==1.2.7 appdirs==1.4.4
    pathos==0.3.5 ppft==1.7.8 pox==0.3.7 dill==0.4.1 multiprocess==0.70.19 lpips==0.1.4
)
platforms=()
for tag in manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_24_x86_64 manylinux_2_27_x86_64 manylinux_2_28_x86_64; do
    platforms+=(--platform "$tag")
done
"$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version "$pyver" --implementation cp "${platforms[@]}" -d "$dir/wheels" "${requirements[@]}"

"$py" - "$dir" <<'PY'
import sys
from pathlib import Path

import torch

from nerfblend_ns.perceptual import vgg_weights

cache = vgg_weights.cache_path()
if not cache.is_file():
    sys.exit(f"offline_bundle: no LPIPS weights at {cache}: run scripts/install.sh first")
weights = torch.load(cache, map_location="cpu", weights_only=True)
torch.save({name: value.half() for name, value in weights.items()}, Path(sys.argv[1]) / "lpips_vgg16_fp16.pth")
PY

cat >"$dir/activate.sh" <<'SH'
# Sourced in a nerfblend checkout on the GPU machine: installs the bundle's wheels once, restores the LPIPS
# weights, registers the checkout's methods with nerfstudio and sets PYTHONPATH and TORCH_HOME.
bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
site=${NERFBLEND_OFFLINE_SITE:-/tmp/nerfblend-offline-site}
if [ ! -f "$site/.complete" ]; then
    python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --target "$site" "$bundle"/wheels/*.whl \
        && touch "$site/.complete"
fi
export TORCH_HOME=${TORCH_HOME:-$site/torch_home}
weights=$TORCH_HOME/hub/checkpoints/nerfblend_vgg16_features.pth
if [ ! -f "$weights" ]; then
    mkdir -p "$(dirname "$weights")"
    python3 -c "import sys, torch; w = torch.load(sys.argv[1], weights_only=True); torch.save({k: v.float() for k, v in w.items()}, sys.argv[2])" \
        "$bundle/lpips_vgg16_fp16.pth" "$weights"
fi
# The entry points of pyproject.toml, as an installed distribution would declare them.
info=$site/nerfblend_ns-0.0.0.dist-info
mkdir -p "$info"
printf 'Metadata-Version: 2.1\nName: nerfblend-ns\nVersion: 0.0.0\n' >"$info/METADATA"
sed -n '/^\[project.entry-points/,/^\[tool/p' pyproject.toml | grep -v '^\[tool' | tr -d '"' \
    | sed 's/^\[project.entry-points.\(.*\)\]/[\1]/' >"$info/entry_points.txt"
export PYTHONPATH=$site:$PWD${PYTHONPATH:+:$PYTHONPATH}
SH
du -sh "$dir"
echo "offline_bundle: carry $dir to the GPU machine and run 'source $dir/activate.sh' in the checkout"
