"""Whether a run may write into its output folder, and what an earlier run there left that it may reuse.

A folder is written into when it is absent or empty, or holds a workspace this tool made from the same
video. A workspace of another video, or a folder of other files, is refused unless --overwrite is given.
With or without it, a file this tool did not write (see `written_files`) is never replaced or deleted:
a run whose files would land on one is refused, naming it.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE
from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.workspace.resume_cache import CACHE_FOLDER, TrackCache, VideoFingerprint

OWN_OUTPUTS = ("transforms.json", LANDMARKS_FILE, "tracking_report.json", "contact_sheet.png")
"""Files a run writes at its end, besides frame files and its cache."""
SHOWN_NAMES = 3
"""Files named in a refusal; the rest are counted."""


@dataclass(frozen=True)
class OutputPlan:
    reusable: Optional[Dict[str, Any]]
    """The earlier run's manifest when its cached frames fit this run."""
    discard_earlier: bool
    """The earlier run's cached frames and outputs must be deleted before writing."""
    note: str = ""


def own_output_names() -> List[str]:
    """The end-of-run files with the temporary names they are written through."""
    return [name for output in OWN_OUTPUTS for name in (output, f"{output}.tmp")]


def _refuse_foreign(output_dir: Path, cache: TrackCache, planned: List[str]) -> None:
    foreign = cache.written.foreign(planned)
    if foreign:
        shown = ", ".join(foreign[:SHOWN_NAMES]) + (f" and {len(foreign) - SHOWN_NAMES} more" if len(foreign) > SHOWN_NAMES else "")
        raise TrackingError(
            f"refusing to write into {output_dir}: {shown} would be replaced and were not written by this tool "
            "(--overwrite replaces only this tool's own files); move them away or choose another --output-dir"
        )


def plan_output(
    output_dir: Path, fingerprint: VideoFingerprint, settings: Dict[str, Any], overwrite: bool, planned: List[str]
) -> OutputPlan:
    """Decides, without writing anything, how a run uses its output folder; raises TrackingError to refuse.

    `planned`: every file name (relative to the folder) the run may write outside its cache.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise TrackingError(f"--output-dir {output_dir} exists and is not a folder")
    if not output_dir.exists() or not any(output_dir.iterdir()):
        return OutputPlan(reusable=None, discard_earlier=False)
    cache = TrackCache(output_dir)
    manifest = cache.read_manifest()
    if manifest is None and cache.manifest_damaged():
        _refuse_foreign(output_dir, cache, planned)
        return OutputPlan(
            reusable=None, discard_earlier=True,
            note=f"{cache.manifest_path} is damaged: it is set aside and every frame is tracked again",
        )
    if manifest is None:
        if not overwrite:
            raise TrackingError(
                f"refusing to write into {output_dir}: it is not empty and holds no workspace made by this tool "
                f"(no {CACHE_FOLDER}/); choose another --output-dir or pass --overwrite (other files are kept)"
            )
        _refuse_foreign(output_dir, cache, planned)
        return OutputPlan(reusable=None, discard_earlier=False, note="writing into a folder of other files (--overwrite)")
    _refuse_foreign(output_dir, cache, planned)
    earlier_video = manifest.get("video", {})
    if not fingerprint.same_video(earlier_video):
        if overwrite:
            return OutputPlan(
                reusable=None,
                discard_earlier=True,
                note=f"replacing the workspace of {earlier_video.get('path')} (--overwrite)",
            )
        raise TrackingError(
            f"refusing to overwrite {output_dir}: it holds the workspace of another video "
            f"({earlier_video.get('path', 'unknown')}); choose another --output-dir or pass --overwrite"
        )
    if manifest.get("settings") != settings:
        return OutputPlan(
            reusable=None, discard_earlier=True, note="tracking settings changed: earlier cached frames are re-tracked"
        )
    return OutputPlan(reusable=manifest, discard_earlier=False)
