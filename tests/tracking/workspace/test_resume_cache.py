"""Cached frame records: a damaged one is named, set aside (never deleted) and its frame re-tracked."""

import numpy as np
import pytest

from nerfblend_ns.tracking.workspace.resume_cache import FrameTrackingResult, TrackCache


def _record(index: int) -> FrameTrackingResult:
    rng = np.random.default_rng(index)
    return FrameTrackingResult(
        index=index, landmarks=rng.random((478, 3)).astype(np.float32), blendshapes=rng.random(52).astype(np.float32),
        face_to_camera=np.eye(4), mask_coverage=0.3, image_file=f"images/{index:06d}.jpg", mask_file=f"masks/{index:06d}.png",
    )


def test_a_record_reads_back(tmp_path):
    cache = TrackCache(tmp_path)
    cache.write_manifest({"tool": "test"})
    cache.save(_record(3))
    loaded = cache.load(3)
    assert np.array_equal(loaded.landmarks, _record(3).landmarks) and loaded.image_file == "images/000003.jpg"


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"", lambda data: b"junk" * 100],
    ids=["truncated", "empty", "not a zip"],
)
def test_a_damaged_record_is_set_aside_by_name(tmp_path, damage):
    messages = []
    cache = TrackCache(tmp_path, messages.append)
    cache.write_manifest({"tool": "test"})
    cache.save(_record(3))
    path = cache.frames / "000003.npz"
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)
    assert cache.load(3) is None
    assert (cache.frames / "000003.npz.damaged").read_bytes() == damaged and not path.exists()
    assert len(messages) == 1 and str(path) in messages[0] and "frame 3 is tracked again" in messages[0]
    cache.save(_record(3))  # re-made
    path.write_bytes(damaged)
    assert cache.load(3) is None and (cache.frames / "000003.npz.damaged2").exists()


def test_a_record_missing_its_arrays_is_damaged(tmp_path):
    cache = TrackCache(tmp_path)
    cache.write_manifest({})
    np.savez(cache.frames / "000001.npz", failure=np.array(""), mask_coverage=np.array(0.2), image_file=np.array("x"),
             mask_file=np.array("y"))
    assert cache.load(1) is None and (cache.frames / "000001.npz.damaged").exists()


def test_a_damaged_manifest_is_set_aside_when_discarded(tmp_path):
    cache = TrackCache(tmp_path)
    cache.write_manifest({"tool": "test"})
    cache.manifest_path.write_text('{"tool": "te')
    assert cache.read_manifest() is None and cache.manifest_damaged()
    cache.discard()
    assert (cache.folder / "manifest.json.damaged").read_text() == '{"tool": "te' and not cache.manifest_path.exists()
