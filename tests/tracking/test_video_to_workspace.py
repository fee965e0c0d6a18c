"""End to end: a short clip of a shared test video becomes a workspace; resume, refusals and failures."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Sequence

import cv2
import numpy as np
import pytest

pytest.importorskip("mediapipe")

from talking_clip import TALKING_CLIP, models_or_skip  # noqa: E402

from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE, read_landmark_file  # noqa: E402
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig  # noqa: E402
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics  # noqa: E402
from nerfblend_ns.tracking import video_to_workspace as video_to_workspace_module  # noqa: E402
from nerfblend_ns.tracking.errors import TrackingError  # noqa: E402
from nerfblend_ns.tracking.masks.consensus_outline import ConsensusOutlineConfig  # noqa: E402
from nerfblend_ns.tracking.face import face_tracker  # noqa: E402
from nerfblend_ns.tracking.mediapipe_tasks.model_files import FACE_LANDMARKER, SELFIE_SEGMENTER  # noqa: E402
from nerfblend_ns.tracking.poses.head_pose import pixel_rays  # noqa: E402
from nerfblend_ns.tracking.run_config import ProcessVideoConfig  # noqa: E402
from nerfblend_ns.tracking.video_to_workspace import process_video  # noqa: E402

VIDEO = TALKING_CLIP
CLIP_FRAMES = 12
RESOLUTION = 256


def _write_clip(path: Path, first: int, count: int, gray_at: Sequence[int] = ()) -> Path:
    """Frames first..first+count of the shared video, with uniform grey frames (no face) at positions gray_at."""
    capture = cv2.VideoCapture(str(VIDEO))
    frames = []
    for index in range(first + count):
        _, frame = capture.read()
        if index >= first:
            frames.append(frame)
    capture.release()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, frames[0].shape[1::-1])
    for position, frame in enumerate(frames):
        writer.write(np.full_like(frame, 128) if position in gray_at else frame)
    writer.release()
    return path


def _config(video: Path, output_dir: Path, **options) -> ProcessVideoConfig:
    return ProcessVideoConfig(video=video, output_dir=output_dir, resolution=RESOLUTION, offline=True, **options)


def _snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    models_or_skip(FACE_LANDMARKER, SELFIE_SEGMENTER)
    folder = tmp_path_factory.mktemp("clips")
    _write_clip(folder / "clip.mp4", 0, CLIP_FRAMES)
    return folder


@pytest.fixture(scope="module")
def tracked(clip_dir: Path, tmp_path_factory):
    """(workspace, report) of a first run on the 12-frame clip."""
    workspace = tmp_path_factory.mktemp("tracked") / "workspace"
    return workspace, process_video(_config(clip_dir / "clip.mp4", workspace))


def test_clip_becomes_a_workspace_the_dataparser_reads(tracked):
    workspace, report = tracked
    assert report["tracked_frames"] == CLIP_FRAMES and report["failed_frames"] == []
    meta = json.loads((workspace / "transforms.json").read_text())
    assert len(meta["expression_names"]) == 51 and "_neutral" not in meta["expression_names"]
    assert meta["fy"] == pytest.approx(0.8158 * RESOLUTION, rel=1e-3) and meta["cx"] == RESOLUTION / 2
    frame = meta["frames"][0]
    for key in ("transform_matrix_raw", "expression_raw", "mouth_rect", "face_rect", "video_frame"):
        assert key in frame
    train = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("train")
    test = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("test")
    assert len(train.image_filenames) + len(test.image_filenames) == CLIP_FRAMES
    assert train.cameras.metadata["expr"].shape[1] == 51
    assert int(train.cameras.width[0]) == RESOLUTION
    sheet = cv2.imread(str(workspace / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] > sheet.shape[0] > 0
    landmarks = read_landmark_file(workspace / LANDMARKS_FILE, [frame["file_path"] for frame in meta["frames"]])
    assert landmarks.kind == "mediapipe-478" and landmarks.points.shape == (CLIP_FRAMES, 478, 3)
    for oval, frame in zip(landmarks.face_ovals(), meta["frames"]):
        x0, y0, x1, y1 = frame["face_rect"]  # the box of all 478 landmarks (to 0.01 px) holds the oval
        assert (oval >= [x0 - 0.01, y0 - 0.01]).all() and (oval <= [x1 + 0.01, y1 + 0.01]).all() and x1 - x0 > RESOLUTION / 8
    ovals = NerfBlendDataParserConfig(data=workspace).setup().get_dataparser_outputs("test").metadata["face_ovals"]
    assert ovals.shape == (len(test.image_filenames), 36, 2)
    saved = json.loads((workspace / "tracking_report.json").read_text())
    assert saved["tracked_fraction"] == 1.0
    assert 0 < saved["tracking_seconds"] < saved["run_seconds"]


def test_head_mask_rays_pass_within_the_workspace_radius(tracked):
    workspace = tracked[0]
    meta = json.loads((workspace / "transforms.json").read_text())
    intrinsics = PinholeIntrinsics(meta["w"], meta["h"], meta["fx"], meta["fy"], meta["cx"], meta["cy"])
    distances = []
    for frame in meta["frames"]:
        rows, cols = np.nonzero(cv2.imread(str(workspace / frame["mask_path"]), cv2.IMREAD_GRAYSCALE) > 127)
        pose = np.array(frame["transform_matrix"])
        directions = pixel_rays(np.stack([cols + 0.5, rows + 0.5], -1), pose, intrinsics)  # [P, 3]
        distances.append(np.linalg.norm(np.cross(-pose[:3, 3], directions), axis=-1))
    distances = np.concatenate(distances)
    assert np.mean(distances > 0.16) < 0.01 and distances.max() < 0.175


def test_second_run_reuses_every_cached_frame_without_tracking(tracked, tmp_path: Path, monkeypatch):
    workspace, _ = tracked
    copy = tmp_path / "workspace"
    shutil.copytree(workspace, copy)

    def no_tracker(*args, **kwargs):
        raise AssertionError("the face tracker was started on a fully cached clip")

    monkeypatch.setattr(face_tracker.FaceTracker, "__init__", no_tracker)
    clip = Path(json.loads((workspace / "tracking_report.json").read_text())["video"]["path"])
    report = process_video(_config(clip, copy, drop_static_coefficients=True))
    assert report["reused_cached_frames"] == CLIP_FRAMES and report["newly_tracked_frames"] == 0
    names = json.loads((copy / "transforms.json").read_text())["expression_names"]
    assert report["static_expression_names"] and not set(names) & set(report["static_expression_names"])
    assert len(names) == 51 - len(report["static_expression_names"])


def test_consensus_outline_masks_are_the_default_written_beside_the_frames_own_and_can_be_switched_off(tracked, tmp_path: Path):
    workspace, _ = tracked
    copy = tmp_path / "workspace"
    shutil.copytree(workspace, copy)
    clip = Path(json.loads((workspace / "tracking_report.json").read_text())["video"]["path"])
    own_masks = {name: data for name, data in _snapshot(copy).items() if name.startswith("masks/")}
    for run in range(2):  # the second run replaces the first run's consensus masks: they are this tool's
        report = process_video(_config(clip, copy))
    frames = json.loads((copy / "transforms.json").read_text())["frames"]
    assert all(frame["mask_path"].startswith("consensus_masks/") and (copy / frame["mask_path"]).is_file() for frame in frames)
    assert {name: data for name, data in _snapshot(copy).items() if name.startswith("masks/")} == own_masks
    summary = report["consensus_outline"]
    assert summary["cells"] > 0 and 0.8 < summary["area_ratio"] < 1.2 and 0.0 < summary["changed_fraction"] < 0.2
    train = NerfBlendDataParserConfig(data=copy).setup().get_dataparser_outputs("train")
    assert all("consensus_masks" in str(name) for name in train.metadata["head_mask_filenames"])
    process_video(_config(clip, copy, consensus_outline=ConsensusOutlineConfig(enabled=False)))
    frames = json.loads((copy / "transforms.json").read_text())["frames"]
    assert all(frame["mask_path"].startswith("masks/") for frame in frames)


def test_a_clip_too_short_to_vote_keeps_its_own_masks_and_says_why(tracked, tmp_path: Path):
    workspace, _ = tracked
    clip = Path(json.loads((workspace / "tracking_report.json").read_text())["video"]["path"])
    too_many = ConsensusOutlineConfig(min_views=CLIP_FRAMES + 1, max_views=CLIP_FRAMES + 1)
    lines = []
    report = process_video(_config(clip, tmp_path / "workspace", consensus_outline=too_many), log=lines.append)
    summary = report["consensus_outline"]
    assert not summary["applied"] and f"{CLIP_FRAMES} frames cannot outvote" in summary["reason"]
    assert any("consensus outline not used" in line and "own masks are kept" in line for line in lines)
    frames = json.loads((tmp_path / "workspace" / "transforms.json").read_text())["frames"]
    assert all(frame["mask_path"].startswith("masks/") for frame in frames)
    assert not (tmp_path / "workspace" / "consensus_masks").exists()


def test_poses_that_disagree_with_the_shape_keep_the_frames_own_masks(tracked, tmp_path: Path, monkeypatch):
    workspace, report = tracked
    assert report["consensus_outline"]["applied"]
    real_outline = video_to_workspace_module.consensus_outline

    def off_the_head(*args, **kwargs):  # what poses that put the shape off the head give (test_consensus_outline.py)
        return dataclasses.replace(real_outline(*args, **kwargs), far_change_fraction=0.7)

    monkeypatch.setattr(video_to_workspace_module, "consensus_outline", off_the_head)
    lines = []
    summary = process_video(_config(Path(report["video"]["path"]), tmp_path / "workspace"), log=lines.append)["consensus_outline"]
    assert not summary["applied"] and summary["far_change_fraction"] == 0.7 and "max-far-change 0.5" in summary["reason"]
    assert any(line.startswith("warning: consensus outline not used") for line in lines)
    frames = json.loads((tmp_path / "workspace" / "transforms.json").read_text())["frames"]
    assert all(frame["mask_path"].startswith("masks/") for frame in frames)
    assert not (tmp_path / "workspace" / "consensus_masks").exists()


def test_a_rerun_that_keeps_the_frames_own_masks_removes_the_earlier_consensus_masks(tracked, tmp_path: Path, monkeypatch):
    workspace, report = tracked
    copy = tmp_path / "workspace"
    shutil.copytree(workspace, copy)
    earlier = sorted((copy / "consensus_masks").iterdir())
    assert report["consensus_outline"]["applied"] and earlier
    (copy / "consensus_masks" / "notes.txt").write_text("not the tool's")
    real_outline = video_to_workspace_module.consensus_outline
    monkeypatch.setattr(
        video_to_workspace_module, "consensus_outline",
        lambda *args, **kwargs: dataclasses.replace(real_outline(*args, **kwargs), far_change_fraction=0.7),
    )
    summary = process_video(_config(Path(report["video"]["path"]), copy))["consensus_outline"]
    assert not summary["applied"]
    assert [path.name for path in (copy / "consensus_masks").iterdir()] == ["notes.txt"]
    frames = json.loads((copy / "transforms.json").read_text())["frames"]
    assert all(frame["mask_path"].startswith("masks/") and (copy / frame["mask_path"]).is_file() for frame in frames)


class _InterruptAfter:
    def __init__(self, frames: int):
        self.frames = frames

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self) -> None:
        self.frames -= 1
        if self.frames == 0:
            raise KeyboardInterrupt


def test_interrupted_run_resumes_where_it_stopped(clip_dir: Path, tmp_path: Path):
    config = _config(clip_dir / "clip.mp4", tmp_path / "workspace")
    with pytest.raises(KeyboardInterrupt):
        process_video(config, progress=_InterruptAfter(5))
    assert not (tmp_path / "workspace" / "transforms.json").exists()
    report = process_video(config)
    # The 12 frames are one tracking segment, unfinished: it is tracked again from its start.
    assert report["reused_cached_frames"] == 0 and report["newly_tracked_frames"] == CLIP_FRAMES
    assert report["tracked_frames"] == CLIP_FRAMES


def test_frames_without_a_face_are_reported_and_left_out(clip_dir: Path, tmp_path: Path):
    video = _write_clip(tmp_path / "with_gaps.mp4", 0, CLIP_FRAMES, gray_at=(4, 5))
    report = process_video(_config(video, tmp_path / "workspace"))
    assert report["failed_count"] == 2
    assert [failure["video_frame"] for failure in report["failed_frames"]] == [4, 5]
    assert all(failure["reason"] == "no face detected" for failure in report["failed_frames"])
    meta = json.loads((tmp_path / "workspace" / "transforms.json").read_text())
    assert [frame["video_frame"] for frame in meta["frames"]] == [0, 1, 2, 3, 6, 7, 8, 9, 10, 11]


def test_small_face_in_a_wide_frame_gets_a_square_crop_around_the_head(clip_dir: Path, tmp_path: Path):
    capture = cv2.VideoCapture(str(VIDEO))
    video = tmp_path / "wide.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (1280, 720))
    for _ in range(8):
        _, frame = capture.read()
        canvas = np.full((720, 1280, 3), 90, np.uint8)
        canvas[420:580, 960:1120] = cv2.resize(frame, (160, 160), interpolation=cv2.INTER_AREA)  # face ≈ 80 px
        writer.write(canvas)
    writer.release()
    capture.release()
    report = process_video(_config(video, tmp_path / "workspace", crop_samples=4))
    crop = report["crop"]
    assert crop["side"] < 400 and report["tracked_fraction"] == 1.0
    assert crop["x0"] < 1000 < 1080 < crop["x0"] + crop["side"] and crop["y0"] < 460 < 540 < crop["y0"] + crop["side"]


def test_workspace_of_another_video_is_refused_unless_overwrite(tracked, tmp_path: Path):
    workspace = tmp_path / "workspace"
    shutil.copytree(tracked[0], workspace)
    (workspace / "my_notes.txt").write_text("keep me")
    other = _write_clip(tmp_path / "other.mp4", 40, CLIP_FRAMES)
    before = _snapshot(workspace)
    with pytest.raises(TrackingError, match="another video"):
        process_video(_config(other, workspace))
    assert _snapshot(workspace) == before
    report = process_video(_config(other, workspace, overwrite=True))
    assert report["video"]["path"] == str(other.resolve()) and report["newly_tracked_frames"] == CLIP_FRAMES
    assert (workspace / "my_notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("options", [{"max_frames": 1}, {"start_s": (CLIP_FRAMES - 1) / 25.0}])
def test_a_single_tracked_frame_is_refused_before_a_workspace_is_written(clip_dir: Path, tmp_path: Path, options):
    with pytest.raises(TrackingError, match=r"1 frame\(s\) of .*clip.mp4 could be tracked; a workspace needs at least 2"):
        process_video(_config(clip_dir / "clip.mp4", tmp_path / "workspace", **options))
    assert not (tmp_path / "workspace" / "transforms.json").exists()


def test_bad_inputs_are_clear_errors_and_leave_existing_data_untouched(tracked, tmp_path: Path):
    workspace = tracked[0]
    before = _snapshot(workspace)
    text = tmp_path / "notes.mp4"
    text.write_text("plain text, not a video\n" * 50)
    gray = tmp_path / "gray.mp4"
    writer = cv2.VideoWriter(str(gray), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (128, 128))
    for _ in range(10):
        writer.write(np.full((128, 128, 3), 128, np.uint8))
    writer.release()
    cases = [
        (tmp_path / "absent.mp4", "video not found"),
        (text, "cannot be decoded as a video"),
        (gray, "no face found"),
    ]
    for video, message in cases:
        with pytest.raises(TrackingError, match=message):
            process_video(_config(video, workspace, overwrite=video == gray))
    assert _snapshot(workspace) == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data.txt").write_text("someone else's")
    with pytest.raises(TrackingError, match="not empty"):
        process_video(_config(gray, foreign))
    assert not (tmp_path / "gray_workspace").exists()
    with pytest.raises(TrackingError, match="no face found"):
        process_video(_config(gray, tmp_path / "gray_workspace"))
    assert not (tmp_path / "gray_workspace").exists()


def test_command_line_prints_the_error_without_a_traceback(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nerfblend_ns.commands.process_video",
            "--video",
            str(tmp_path / "absent.mp4"),
            "--output-dir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "video not found" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def _workspace_files(workspace: Path) -> Dict[str, bytes]:
    """What a resumed run must reproduce bit for bit: transforms.json, the frames and their masks."""
    return {name: data for name, data in _snapshot(workspace).items() if name == "transforms.json" or name.startswith(("images/", "masks/"))}


def test_interrupted_run_resumes_to_the_same_workspace(clip_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(video_to_workspace_module, "TRACKING_SEGMENT", 5)
    whole = tmp_path / "whole"
    process_video(_config(clip_dir / "clip.mp4", whole))
    config = _config(clip_dir / "clip.mp4", tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        process_video(config, progress=_InterruptAfter(7))
    report = process_video(config)
    # Segment 0 (frames 0-4) is whole in the cache; segment 1 is tracked again from frame 5.
    assert report["reused_cached_frames"] == 5 and report["newly_tracked_frames"] == CLIP_FRAMES - 5
    assert _workspace_files(config.output_dir) == _workspace_files(whole)


class _RunAgainInside:
    """Starts a second run on the same folder while the first is tracking."""

    def __init__(self, config: ProcessVideoConfig):
        self.config, self.refusal = config, None

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self) -> None:
        if self.refusal is None:
            with pytest.raises(TrackingError) as refusal:
                process_video(self.config)
            self.refusal = str(refusal.value)


def test_a_second_run_on_a_folder_in_use_is_refused(clip_dir: Path, tmp_path: Path):
    config = _config(clip_dir / "clip.mp4", tmp_path / "workspace")
    second = _RunAgainInside(config)
    report = process_video(config, progress=second)
    assert f"{config.output_dir} is being written by another nerfblend-process-video run (process {os.getpid()}" in second.refusal
    assert report["tracked_frames"] == CLIP_FRAMES


def test_a_damaged_cache_file_is_named_set_aside_and_remade(tracked, tmp_path: Path):
    workspace = tmp_path / "workspace"
    shutil.copytree(tracked[0], workspace)
    record = workspace / ".nerfblend-track" / "frames" / "000004.npz"
    record.write_bytes(record.read_bytes()[:100])
    clip = Path(json.loads((workspace / "tracking_report.json").read_text())["video"]["path"])
    messages = []
    process_video(_config(clip, workspace), log=messages.append)
    assert any(str(record) in message and "set aside as 000004.npz.damaged" in message for message in messages)
    assert len((record.parent / "000004.npz.damaged").read_bytes()) == 100 and record.is_file()
    assert _workspace_files(workspace) == _workspace_files(tracked[0])


@pytest.mark.parametrize("overwrite", [False, True])
def test_the_users_own_files_are_never_replaced(clip_dir: Path, tmp_path: Path, overwrite: bool):
    folder = tmp_path / "mine"
    (folder / "images").mkdir(parents=True)
    (folder / "transforms.json").write_text('{"mine": true}')
    (folder / "images" / "000000.jpg").write_bytes(b"my photo")
    before = _snapshot(folder)
    with pytest.raises(TrackingError, match="not empty" if not overwrite else "images/000000.jpg, transforms.json would be replaced"):
        process_video(_config(clip_dir / "clip.mp4", folder, overwrite=overwrite))
    assert _snapshot(folder) == before


def test_overwrite_keeps_a_users_file_in_a_workspace_of_another_video(tracked, tmp_path: Path):
    workspace = tmp_path / "workspace"
    shutil.copytree(tracked[0], workspace)
    (workspace / "images" / "000013.jpg").write_bytes(b"the user's frame")  # where the other clip's frame 13 goes
    other = _write_clip(tmp_path / "other.mp4", 40, CLIP_FRAMES + 2)
    before = _snapshot(workspace)
    with pytest.raises(TrackingError, match="images/000013.jpg would be replaced"):
        process_video(_config(other, workspace, overwrite=True))
    assert _snapshot(workspace) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_a_clear_error(clip_dir: Path, tmp_path: Path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(TrackingError, match="permission denied"):
            process_video(_config(clip_dir / "clip.mp4", folder / "workspace"))
    finally:
        folder.chmod(0o700)


def _command(video: Path, output_dir: Path) -> list:
    return [sys.executable, "-m", "nerfblend_ns.commands.process_video", "--video", str(video), "--output-dir",
            str(output_dir), "--resolution", str(RESOLUTION), "--offline"]


def _start_and_stop_after(command: list, frames_dir: Path, frames: int, stop: signal.Signals) -> None:
    """Runs `command` until `frames` records are cached, then sends it `stop`."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None and len(list(frames_dir.glob("*.npz"))) < frames:
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(stop)
        process.wait(timeout=60)
    finally:
        process.kill()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_signalled_command_resumes_to_the_same_workspace(clip_dir: Path, tmp_path: Path, stop):
    clip = _write_clip(tmp_path / "long.mp4", 0, 70)  # two tracking segments: 50 + 20 frames
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    subprocess.run(_command(clip, whole), check=True, capture_output=True, timeout=600)
    _start_and_stop_after(_command(clip, resumed), resumed / ".nerfblend-track" / "frames", 58, stop)
    assert not (resumed / "transforms.json").exists()
    subprocess.run(_command(clip, resumed), check=True, capture_output=True, timeout=600)
    report = json.loads((resumed / "tracking_report.json").read_text())
    assert report["reused_cached_frames"] == 50 and report["newly_tracked_frames"] == 20
    assert _workspace_files(resumed) == _workspace_files(whole)


@pytest.mark.slow
def test_two_concurrent_commands_on_one_folder(clip_dir: Path, tmp_path: Path):
    clip = clip_dir / "clip.mp4"
    workspace = tmp_path / "workspace"
    first_output = tmp_path / "first_run.log"  # what a failure below is explained by
    with first_output.open("w") as log:
        first = subprocess.Popen(_command(clip, workspace), stdout=log, stderr=subprocess.STDOUT)
    try:
        while first.poll() is None and not (workspace / ".nerfblend-track" / "lock_holder.json").exists():
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)  # holds its lock, paused, while the second starts
        assert first.poll() is None, f"the first run ended before the second started:\n{first_output.read_text()}"
        second = subprocess.run(_command(clip, workspace), capture_output=True, text=True, timeout=300)
        first.send_signal(signal.SIGCONT)
        message = " ".join(second.stderr.split())
        assert second.returncode == 2 and f"{workspace} is being written by another" in message, message
        assert f"process {first.pid} on" in message
        assert first.wait(timeout=600) == 0, first_output.read_text()
    finally:
        first.kill()
    assert json.loads((workspace / "tracking_report.json").read_text())["tracked_frames"] == CLIP_FRAMES
