"""`nerfblend-process-video`: track a raw video into a nerfblend workspace (docs/workspace-format.md)."""

from typing import Any, Dict, Optional

import tyro
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.run_config import ProcessVideoConfig
from nerfblend_ns.tracking.video_to_workspace import process_video


class FrameRateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} frames/s" if task.speed else "", style="progress.data.speed")


class RichProgress:
    """Progress bar of the tracking pass, with the frame rate."""

    def __init__(self, progress: Progress):
        self._progress = progress
        self._task: Optional[TaskID] = None

    def start(self, stage: str, total: int) -> None:
        self._task = self._progress.add_task(stage, total=total)

    def advance(self) -> None:
        if self._task is not None:
            self._progress.advance(self._task)


_JITTER_FIELDS = (
    ("rotation", "rotation_deg_rms", 3, "°"),
    ("its change (jitter)", "rotation_second_difference_deg_rms", 3, "°"),
    ("head centre", "translation_mm_rms", 2, "mm"),
)


_POSE_SOURCES = ("mediapipe", "mediapipe_smoothed", "workspace")


_PART_LABELS = {"mouth": "lip", "brows": "brow"}


def _expression_line(part: str, fidelity: Dict[str, Any]) -> str:
    label = _PART_LABELS[part]
    if "coefficients_residual_rms_mm" not in fidelity:
        return f"{label} motion vs coefficients: {fidelity['note']}"
    motion, left = fidelity["motion_rms_mm"]["held_out"], fidelity["coefficients_residual_rms_mm"]["held_out"]
    components = fidelity["with_residual_components_rms_mm"]
    four = f", {components['4']['held_out']:.2f} mm with 4 residual components" if "4" in components else ""
    least = fidelity["least_explained_frames"][0]
    return (
        f"{label} motion (relative to the eye corners) on the last {fidelity['held_out_frames']} frames: "
        f"{motion:.2f} mm RMS, {left:.2f} mm left unexplained by the coefficients{four}; "
        f"least explained: {least['file_path']} ({least['unexplained_mm']:.2f} mm)"
    )


def _summary(report: Dict[str, Any]) -> str:
    raw, smoothed = report["pose_jitter"]["raw"], report["pose_jitter"]["smoothed"]
    coverage = report["mask_coverage"]
    rate = report["frames_per_second"]
    lines = [
        f"tracked {report['tracked_frames']}/{report['selected_frames']} frames ({report['tracked_fraction']:.1%}); "
        f"{report['reused_cached_frames']} reused from the cache"
        + (f", {report['newly_tracked_frames']} tracked at {rate:.1f} frames/s" if rate else ""),
        "pose change frame to frame (RMS, raw → smoothed): "
        + ", ".join(
            f"{label} {raw[key]:.{digits}f} → {smoothed[key]:.{digits}f} {unit}"
            for label, key, digits, unit in _JITTER_FIELDS
        ),
        "stable landmarks' reprojection RMS (MediaPipe raw / smoothed / workspace poses): "
        + " / ".join(f"{report['pose_quality'][name]['stable_landmark_rms_px']:.2f}" for name in _POSE_SOURCES)
        + " px; jitter (change of the frame-to-frame rotation, of the head centre's step): "
        + " / ".join(
            f"{report['pose_quality'][name]['rotation_second_difference_deg_rms']:.3f}° "
            f"{report['pose_quality'][name]['translation_second_difference_mm_rms']:.2f} mm"
            for name in _POSE_SOURCES
        ),
        *(_expression_line(part, fidelity) for part, fidelity in report["expression_fidelity"].items()),
        f"head mask coverage: mean {coverage['mean']:.1%}, min {coverage['min']:.1%}, max {coverage['max']:.1%}",
    ]
    if report["static_expression_names"]:
        verb = "dropped" if report["dropped_expression_names"] else "kept (--drop-static-coefficients leaves them out)"
        static = report["static_expression_names"]
        lines.append(f"{len(static)} static coefficients, {verb}: {', '.join(static)}")
    if report["failed_frames"]:
        shown = ", ".join(f"{failure['video_frame']} ({failure['reason']})" for failure in report["failed_frames"][:10])
        more = f" and {report['failed_count'] - 10} more" if report["failed_count"] > 10 else ""
        lines.append(f"{report['failed_count']} frames not tracked, left out: {shown}{more}")
    return "\n".join(lines)


def entrypoint() -> None:
    config = tyro.cli(ProcessVideoConfig)
    console, errors = Console(), Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        FrameRateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            report = process_video(config, RichProgress(progress), log=lambda message: console.print(Text(message)))
    except TrackingError as error:
        errors.print(Text(f"error: {error}", style="red"))
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        errors.print(
            Text("interrupted: frames tracked so far are cached; run the same command again to resume", style="yellow")
        )
        raise SystemExit(130) from None
    console.print(Text(_summary(report)))
    console.print(
        Text(
            f"workspace written to {config.output_dir} (transforms.json, tracking_report.json, contact_sheet.png) "
            f"in {report['run_seconds']:.1f} s"
        )
    )


if __name__ == "__main__":
    entrypoint()
