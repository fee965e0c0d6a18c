"""Tracking a raw video into a nerfblend workspace: the steps of a run, in order.

Nothing is written before every check has passed (video decodes, output folder may be used, model
files found, a face is visible), and a run holds a lock on its output folder throughout. Per-frame
results are cached in the workspace as they are made, so an interrupted run resumes; smoothing, the
coefficient choice and the summary files are recomputed from the cache on every run.

MediaPipe's video mode follows the face from each frame to the next, so a frame's result depends on
the frames tracked before it. The tracker therefore starts afresh every TRACKING_SEGMENT frames, in
every run, and a resumed run re-tracks each segment it did not finish from the segment's start: its
workspace is bit for bit the one an uninterrupted run writes.
"""

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Protocol, Tuple

import cv2
import numpy as np

from nerfblend_ns.dataparsers.frame_files import read_head_mask
from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE, write_landmark_file
from nerfblend_ns.metrics.silhouette_band import SILHOUETTE_BAND_PX
from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics
from nerfblend_ns.tracking.clip_assembly import assemble_clip, with_residual_coefficients
from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.face.face_regions import mouth_rect
from nerfblend_ns.tracking.face.face_tracker import FaceTracker
from nerfblend_ns.tracking.frame_tracking import (
    FrameSettings,
    FrameTracker,
    consensus_mask_file_name,
    image_file_name,
    mask_file_name,
    write_mask,
)
from nerfblend_ns.tracking.masks.consensus_outline import consensus_outline
from nerfblend_ns.tracking.masks.selfie_segmenter import SelfieSegmenter
from nerfblend_ns.tracking.mediapipe_tasks.model_files import FACE_LANDMARKER, SELFIE_SEGMENTER, ModelFileError, resolve_model
from nerfblend_ns.tracking.poses.head_pose import mediapipe_intrinsics
from nerfblend_ns.tracking.poses.smoothing import contiguous_runs
from nerfblend_ns.tracking.reporting.contact_sheet import SheetFrame, sheet_positions, top_coefficient_lines, write_contact_sheet
from nerfblend_ns.tracking.reporting.run_report import clip_report, tracking_report
from nerfblend_ns.tracking.reporting.tracking_quality import expression_report, pose_fit_report
from nerfblend_ns.tracking.run_config import ProcessVideoConfig, cache_settings, check_options
from nerfblend_ns.tracking.video.head_crop import SquareCrop, plan_clip_crop
from nerfblend_ns.tracking.video.video_frames import (
    FrameSelection,
    VideoInfo,
    FramesAhead,
    probe_video,
    select_frames,
)
from nerfblend_ns.tracking.workspace.atomic_files import write_json_atomically
from nerfblend_ns.tracking.workspace.output_guard import own_output_names, plan_output
from nerfblend_ns.tracking.workspace.output_lock import HOLDER_FILE, OutputLock
from nerfblend_ns.tracking.workspace.resume_cache import CACHE_FOLDER, FrameTrackingResult, TrackCache, VideoFingerprint
from nerfblend_ns.tracking.workspace.workspace_writer import TrackedClip, clip_landmarks, transforms_document

TOOL_NAME = "nerfblend-process-video"
TRACKING_SEGMENT = 50
"""Selected frames the face tracker follows one to the next before starting afresh (2 s of a 25 fps
video): the most a resumed run re-tracks, and a fresh face detection that often costs nothing visible
after smoothing."""
PENDING_FRAMES = 2
"""Frames tracked ahead of the one whose mask and files are still being made (see FrameTracker)."""
MIN_TRACKED_FRAMES = 2
"""Fewest tracked frames a workspace is written from: one frame gives the rays of a single camera,
from which the pose report's landmark template cannot be triangulated."""
Log = Callable[[str], None]


class ProgressReporter(Protocol):
    def start(self, stage: str, total: int) -> None: ...

    def advance(self) -> None: ...


class NoProgress:
    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


@dataclass(frozen=True)
class _Run:
    """What a run settled on before writing anything."""

    info: VideoInfo
    indices: np.ndarray
    """[N] video frames to track."""
    fingerprint: VideoFingerprint
    settings: Dict[str, Any]
    models: Dict[str, Path]
    crop: SquareCrop
    blendshape_names: List[str]
    discard_earlier: bool


def _models(config: ProcessVideoConfig, log: Log) -> Dict[str, Path]:
    try:
        return {
            spec.file_name: resolve_model(spec, config.model_dir, config.model_cache_dir, not config.offline, log)
            for spec in (FACE_LANDMARKER, SELFIE_SEGMENTER)
        }
    except ModelFileError as error:
        raise TrackingError(str(error)) from None


def _plan_crop(
    config: ProcessVideoConfig, info: VideoInfo, indices: np.ndarray, landmarker: Path, log: Log
) -> Tuple[SquareCrop, List[str]]:
    """The clip's crop and MediaPipe's blendshape names, from faces found on sampled frames."""
    count = min(config.crop_samples, len(indices))
    samples = indices[np.unique(np.linspace(0, len(indices) - 1, count).round().astype(int))]
    names: List[str] = []
    # Sampled frames are decoded ahead while MediaPipe loads (a second on first use) and faces are searched.
    to_rgb = lambda frame: cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)  # noqa: E731
    with FramesAhead(info.path, samples, to_rgb) as decoded, FaceTracker(landmarker, video=False) as tracker:

        def find_face(rgb: np.ndarray) -> Optional[np.ndarray]:
            face = tracker.track(rgb)
            if face is None:
                return None
            names[:] = face.blendshape_names
            return face.landmarks[:, :2]

        frames = (rgb for _, rgb in decoded)
        crop, found = plan_clip_crop(frames, find_face, info.width, info.height, config.crop_scale)
    if crop is None:
        raise TrackingError(
            f"no face found in {info.path}: none of {len(samples)} frames sampled over the chosen range shows one "
            "(searched the whole frame and windows down to a quarter of it)"
        )
    log(f"crop: {crop.side}×{crop.side} px at ({crop.x0}, {crop.y0}), from the face in {found}/{len(samples)} samples")
    return crop, names


def _planned_files(config: ProcessVideoConfig, indices: np.ndarray) -> List[str]:
    """Every file a run may write outside its cache folder."""
    frames = [name for index in indices for name in (image_file_name(int(index), config.image_format), mask_file_name(int(index)))]
    if config.consensus_outline.enabled:
        frames += [consensus_mask_file_name(int(index)) for index in indices]
    return frames + own_output_names()


def _prepare(config: ProcessVideoConfig, log: Log) -> _Run:
    """Every check that can refuse the run, without writing to the output folder."""
    check_options(config)
    info = probe_video(config.video)
    selection = FrameSelection(
        every_nth=config.every_nth, start_s=config.start_s, end_s=config.end_s, max_frames=config.max_frames
    )
    indices = select_frames(info, selection)
    fingerprint = VideoFingerprint.of(config.video)
    settings = cache_settings(config)
    plan = plan_output(config.output_dir, fingerprint, settings, config.overwrite, _planned_files(config, indices))
    models = _models(config, log)
    if plan.reusable is not None:  # the crop stays that of the workspace, so its cached frames stay valid
        crop, names = SquareCrop(**plan.reusable["crop"]), list(plan.reusable["blendshape_names"])
    else:
        crop, names = _plan_crop(config, info, indices, models[FACE_LANDMARKER.file_name], log)
    if plan.note:
        log(plan.note)
    return _Run(info, indices, fingerprint, settings, models, crop, names, plan.discard_earlier)


def _open_cache(config: ProcessVideoConfig, run: _Run, lock: OutputLock, log: Log) -> TrackCache:
    """The folder's cache, locked and made ready to write; the run's file names are claimed in its ledger."""
    newly_made = not config.output_dir.exists()
    config.output_dir.mkdir(parents=True, exist_ok=True)
    if not lock.held:  # the folder did not exist when the run was planned
        lock.acquire()
        if not newly_made and any(config.output_dir.iterdir()):
            raise TrackingError(f"{config.output_dir} was filled by another process while this run started; run again")
    lock.record_holder()
    cache = TrackCache(config.output_dir, log)
    if run.discard_earlier:
        log(f"deleted {cache.discard()} cached frames of the earlier run")
    cache.written.claim(_planned_files(config, run.indices))
    cache.write_manifest(
        {
            "tool": TOOL_NAME,
            "video": asdict(run.fingerprint),
            "settings": run.settings,
            "crop": run.crop.to_json(),
            "blendshape_names": run.blendshape_names,
        }
    )
    return cache


def _usable_cached_records(cache: TrackCache, indices: np.ndarray) -> Dict[int, FrameTrackingResult]:
    """Cached records of the selected frames that can be used as they are, by whole tracking segments.

    A record is usable when it is readable and its files are present; a segment with any frame not
    usable is tracked again whole, from its start, as an uninterrupted run tracked it.
    """
    usable = {}
    for start in range(0, len(indices), TRACKING_SEGMENT):
        segment = {}
        for index in indices[start : start + TRACKING_SEGMENT]:
            record = cache.load(int(index))
            files_present = record is not None and (
                not record.tracked
                or all((cache.output_dir / name).is_file() for name in (record.image_file, record.mask_file))
            )
            if not files_present:
                break
            segment[int(index)] = record
        else:
            usable.update(segment)
    return usable


def _track_frames(
    config: ProcessVideoConfig, run: _Run, missing: List[int], cache: TrackCache, progress: ProgressReporter
) -> Dict[int, FrameTrackingResult]:
    """Tracks the frames missing from the cache, caching each record as soon as it is made."""
    settings = FrameSettings(
        resolution=config.resolution,
        image_format=config.image_format,
        jpeg_quality=config.jpeg_quality,
        mask=config.mask,
    )
    progress.start("tracking frames", len(missing))
    records: Dict[int, FrameTrackingResult] = {}
    segment_of = {int(index): position // TRACKING_SEGMENT for position, index in enumerate(run.indices)}
    pending: Deque[Tuple[int, "Future[FrameTrackingResult]"]] = deque()

    def collect(keep: int) -> None:
        """Takes the finished records in frame order, waiting while more than `keep` are pending."""
        while pending and (len(pending) > keep or pending[0][1].done()):
            index, result = pending.popleft()
            records[index] = result.result()
            progress.advance()

    tracker, segment = None, -1
    with SelfieSegmenter(run.models[SELFIE_SEGMENTER.file_name]) as segmenter, FrameTracker(
        segmenter, run.crop, settings, config.output_dir, cache
    ) as frame_tracker, FramesAhead(run.info.path, missing, frame_tracker.crop) as decoded:
        try:
            for index, frame in decoded:
                if segment_of[index] != segment:
                    if tracker is not None:
                        tracker.close()
                    tracker, segment = FaceTracker(run.models[FACE_LANDMARKER.file_name], video=True), segment_of[index]
                timestamp_ms = int(round(index * 1000.0 / run.info.fps))
                pending.append((index, frame_tracker.submit(tracker, index, frame, timestamp_ms)))
                collect(keep=PENDING_FRAMES)
            collect(keep=0)
        finally:
            if tracker is not None:
                tracker.close()
    for index in missing:
        if index not in records:  # the container promised more frames than the decoder gave
            records[index] = FrameTrackingResult(index=index, failure="frame could not be decoded")
            cache.save(records[index])
            progress.advance()
    return records


def _with_consensus_outline(
    config: ProcessVideoConfig, clip: TrackedClip, intrinsics: PinholeIntrinsics, log: Log
) -> Tuple[TrackedClip, Dict[str, Any]]:
    """The clip with every frame's mask replaced by its consensus-outline mask (written beside the frame's own,
    which the cache keeps for later runs), or as it is where the clip is too short to vote or its poses disagree
    with the shape; and the step's report."""
    settings = config.consensus_outline
    if len(clip.records) < settings.min_views:
        reason = f"{len(clip.records)} frames cannot outvote one another (--consensus-outline.min-views {settings.min_views})"
        log(f"consensus outline not used: {reason}; the frames' own masks are kept")
        return clip, {"consensus_outline": {**asdict(settings), "applied": False, "reason": reason}}
    start = time.perf_counter()
    # PNG decoding and encoding hold no interpreter lock: two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        own_masks = pool.map(lambda record: read_head_mask(config.output_dir / record.mask_file, "gray"), clip.records)
        outline = consensus_outline(np.stack(list(own_masks)), clip.camera_to_world, intrinsics, settings)
        applied = outline.far_change_fraction <= settings.max_far_change
        records = clip.records
        if applied:
            (config.output_dir / "consensus_masks").mkdir(exist_ok=True)
            records = [replace(record, mask_file=consensus_mask_file_name(record.index)) for record in clip.records]
            written = pool.map(lambda record, mask: write_mask(config.output_dir / record.mask_file, mask), records, outline.masks)
            list(written)  # raises the first write error
    seconds = time.perf_counter() - start
    far = f"{outline.far_change_fraction:.0%} of where shape and masks disagree lies more than {SILHOUETTE_BAND_PX} px from the frames' own outlines"
    if applied:
        log(
            f"consensus outline above the ears: {outline.cells} cells; masks changed by {outline.changed_fraction:.1%} of "
            f"their area (outlines moved by at most {settings.max_shift_px or 'any number of'} px), area "
            f"×{outline.area_ratio:.3f}; {far} ({seconds:.1f} s)"
        )
        reason = ""
    else:
        reason = f"{far} (more than --consensus-outline.max-far-change {settings.max_far_change:g})"
        log(
            f"warning: consensus outline not used: {reason}: the poses disagree with the masks (or the hair moves on the "
            "head), and the shape would land off the head; the frames' own masks are kept (docs/tracking.md)"
        )
    report = {
        "consensus_outline": {
            **asdict(settings), "applied": applied, "reason": reason, "cells": outline.cells,
            "area_ratio": round(outline.area_ratio, 5), "changed_fraction": round(outline.changed_fraction, 5),
            "far_change_fraction": round(outline.far_change_fraction, 5), "seconds": round(seconds, 3),
        }
    }
    return replace(clip, records=records), report


def _remove_unused_consensus_masks(output_dir: Path, clip: TrackedClip) -> None:
    """Deletes the consensus masks of an earlier run that this run's frames do not use (all of them where it
    kept the frames' own masks), and their folder once empty; other files there are left alone."""
    used = {record.mask_file for record in clip.records}
    folder = output_dir / Path(consensus_mask_file_name(0)).parent
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        name = f"{folder.name}/{path.name}"
        ours = path.is_file() and path.stem.isdigit() and consensus_mask_file_name(int(path.stem)) == name
        if ours and name not in used:
            path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()


def _write_contact_sheet(config: ProcessVideoConfig, clip: TrackedClip) -> None:
    frames = []
    for position in sheet_positions(len(clip.records), config.contact_sheet_frames):
        record = clip.records[position]
        points = record.landmarks[:, :2]
        frames.append(
            SheetFrame(
                image_path=config.output_dir / record.image_file,
                mask_path=config.output_dir / record.mask_file,
                video_index=record.index,
                landmarks=points,
                mouth_rect=mouth_rect(points, config.resolution),
                top_coefficients=top_coefficient_lines(clip.expressions.names, clip.expressions.values[position]),
            )
        )
    write_contact_sheet(config.output_dir / "contact_sheet.png", frames)


def process_video(
    config: ProcessVideoConfig, progress: Optional[ProgressReporter] = None, log: Log = lambda _: None
) -> Dict[str, Any]:
    """Tracks config.video into config.output_dir; returns the run's report (also written to tracking_report.json)."""
    try:
        with OutputLock(config.output_dir, config.output_dir / CACHE_FOLDER / HOLDER_FILE) as lock:
            return _locked_run(config, lock, progress, log)
    except PermissionError as error:
        raise TrackingError(
            f"{error.filename or config.output_dir}: permission denied; choose an --output-dir you can write to"
        ) from None


def _locked_run(config: ProcessVideoConfig, lock: OutputLock, progress: Optional[ProgressReporter], log: Log) -> Dict[str, Any]:
    start = time.perf_counter()
    run = _prepare(config, log)
    cache = _open_cache(config, run, lock, log)
    records = _usable_cached_records(cache, run.indices)
    missing = [int(index) for index in run.indices if int(index) not in records]
    start = time.perf_counter()
    if missing:
        records.update(_track_frames(config, run, missing, cache, progress or NoProgress()))
    ordered = [records[int(index)] for index in run.indices]
    intrinsics = mediapipe_intrinsics(config.resolution, config.resolution)
    seconds = time.perf_counter() - start
    report = tracking_report(
        run.info, run.fingerprint, ordered, len(missing), seconds, run.crop, intrinsics, config.smoothing
    )
    report_path = config.output_dir / "tracking_report.json"
    positions = np.array([position for position, record in enumerate(ordered) if record.tracked], dtype=int)
    if len(positions) < MIN_TRACKED_FRAMES:
        write_json_atomically(report_path, report)
        raise TrackingError(
            f"{len(positions)} frame(s) of {config.video} could be tracked; a workspace needs at least {MIN_TRACKED_FRAMES} "
            f"(its head poses are smoothed and scored across frames): track a longer range; the reasons are in {report_path}"
        )

    clip, static_names = assemble_clip(
        [ordered[position] for position in positions],
        positions,
        run.blendshape_names,
        config.smoothing,
        rate_hz=run.info.fps / config.every_nth,
        static_range=config.static_range,
        drop_static=config.drop_static_coefficients,
        pose_fit=config.pose_fit,
        intrinsics=intrinsics,
    )
    runs = contiguous_runs(positions)
    report.update(clip_report(clip, runs, static_names, config.drop_static_coefficients))
    report.update(pose_fit_report(clip, runs, intrinsics, config.smoothing, rate_hz=run.info.fps / config.every_nth))
    report.update(expression_report(clip, intrinsics))
    residual_counts = {"mouth": config.mouth_residual_coefficients, "brows": config.brow_residual_coefficients}
    clip = with_residual_coefficients(clip, intrinsics, residual_counts)
    if config.consensus_outline.enabled:
        clip, outline_report = _with_consensus_outline(config, clip, intrinsics, log)
        report.update(outline_report)
    extra = {
        "static_expression_names": static_names,
        "smoothing": asdict(config.smoothing),
        "pose_fit": asdict(config.pose_fit),
        "source_video": {
            "path": run.fingerprint.path,
            "fps": run.info.fps,
            "width": run.info.width,
            "height": run.info.height,
        },
        "crop": run.crop.to_json(),
    }
    transforms = transforms_document(clip, intrinsics, run.info.fps, extra)
    # Before transforms.json: a run cut short between the two leaves landmarks that the dataparser
    # rejects by name against the earlier transforms.json, never a silent mismatch.
    write_landmark_file(
        config.output_dir / LANDMARKS_FILE, [frame["file_path"] for frame in transforms["frames"]], clip_landmarks(clip)
    )
    write_json_atomically(config.output_dir / "transforms.json", transforms)
    # After transforms.json: until then the earlier one may still name them.
    _remove_unused_consensus_masks(config.output_dir, clip)
    _write_contact_sheet(config, clip)
    # The whole run (the interpreter's start and imports aside), where tracking_seconds is the frames' tracking alone.
    report["run_seconds"] = round(time.perf_counter() - start, 3)
    write_json_atomically(report_path, report)
    return report
