"""Whether a run may write into its output folder, and what an earlier run there left that it may reuse.

A folder is written into when it is absent or empty, or holds a workspace this tool made from the same
video. A workspace of another video, or a folder of other files, is refused unless --overwrite is given;
even then only files this tool wrote are ever deleted.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from nerfblend_ns.dataparsers.landmark_file import LANDMARKS_FILE
from nerfblend_ns.tracking.errors import TrackingError
from nerfblend_ns.tracking.resume_cache import CACHE_FOLDER, TrackCache, VideoFingerprint

OWN_OUTPUTS = ("transforms.json", LANDMARKS_FILE, "tracking_report.json", "contact_sheet.png")
"""Files a run writes at its end, besides frame files and its cache."""


@dataclass(frozen=True)
class OutputPlan:
    reusable: Optional[Dict[str, Any]]
    """The earlier run's manifest when its cached frames fit this run."""
    discard_earlier: bool
    """The earlier run's cached frames and outputs must be deleted before writing."""
    note: str = ""


def plan_output(
    output_dir: Path, fingerprint: VideoFingerprint, settings: Dict[str, Any], overwrite: bool
) -> OutputPlan:
    """Decides, without writing anything, how a run uses its output folder; raises TrackingError to refuse."""
    if output_dir.exists() and not output_dir.is_dir():
        raise TrackingError(f"--output-dir {output_dir} exists and is not a folder")
    if not output_dir.exists() or not any(output_dir.iterdir()):
        return OutputPlan(reusable=None, discard_earlier=False)
    manifest = TrackCache(output_dir).read_manifest()
    if manifest is None:
        if overwrite:
            return OutputPlan(
                reusable=None, discard_earlier=False, note="writing into a folder of other files (--overwrite)"
            )
        raise TrackingError(
            f"refusing to write into {output_dir}: it is not empty and holds no workspace made by this tool "
            f"(no {CACHE_FOLDER}/); choose another --output-dir or pass --overwrite (other files are kept)"
        )
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
