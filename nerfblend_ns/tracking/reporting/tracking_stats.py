"""Numbers that describe a tracked clip: pose jitter, mask coverage, coefficient ranges."""

from typing import Dict, List

import numpy as np
from scipy.spatial.transform import Rotation


def _rms(values: List[np.ndarray]) -> float:
    joined = np.concatenate(values) if values else np.zeros(0)
    return float(np.sqrt(np.mean(joined**2))) if len(joined) else 0.0


def rotation_steps_deg(camera_to_world: np.ndarray) -> np.ndarray:
    """Rotation angle [N − 1] in degrees between consecutive poses [N, 4, 4]."""
    relative = np.einsum("nji,njk->nik", camera_to_world[:-1, :3, :3], camera_to_world[1:, :3, :3])  # [N-1, 3, 3]
    cosine = np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)
    return np.degrees(np.arccos(cosine))


def rotation_second_differences_deg(camera_to_world: np.ndarray) -> np.ndarray:
    """Change [N − 2] in degrees of the frame-to-frame rotation of poses [N, 4, 4].

    Steady head motion cancels out of it, frame-to-frame noise does not: it measures jitter.
    """
    rotations = Rotation.from_matrix(camera_to_world[:, :3, :3])
    steps = (rotations[:-1].inv() * rotations[1:]).as_rotvec()  # [N-1, 3] in each frame's own axes
    return np.degrees(np.linalg.norm(np.diff(steps, axis=0), axis=1))


def head_centre_steps_mm(camera_to_world: np.ndarray) -> np.ndarray:
    """Distance [N − 1] in mm between the head centre's positions in consecutive cameras [N, 4, 4]."""
    centres = np.linalg.inv(camera_to_world)[:, :3, 3]  # [N, 3] world origin in camera coordinates (m)
    return np.linalg.norm(np.diff(centres, axis=0), axis=1) * 1000.0


def head_centre_second_differences_mm(camera_to_world: np.ndarray) -> np.ndarray:
    """Change [N − 2] in mm of the head centre's frame-to-frame motion in cameras [N, 4, 4]: its jitter."""
    centres = np.linalg.inv(camera_to_world)[:, :3, 3]  # [N, 3]
    return np.linalg.norm(np.diff(centres, n=2, axis=0), axis=1) * 1000.0


def pose_jitter(camera_to_world: np.ndarray, runs: List[np.ndarray]) -> Dict[str, float]:
    """RMS frame-to-frame rotation (deg), head-centre motion (mm) and the changes of both of poses [N, 4, 4].

    Only consecutive tracked frames (runs) are compared.
    """
    usable = [run for run in runs if len(run) > 2]
    return {
        "rotation_deg_rms": _rms([rotation_steps_deg(camera_to_world[run]) for run in usable]),
        "rotation_second_difference_deg_rms": _rms(
            [rotation_second_differences_deg(camera_to_world[run]) for run in usable]
        ),
        "translation_mm_rms": _rms([head_centre_steps_mm(camera_to_world[run]) for run in usable]),
        "translation_second_difference_mm_rms": _rms(
            [head_centre_second_differences_mm(camera_to_world[run]) for run in usable]
        ),
    }


def coverage_summary(coverages: np.ndarray) -> Dict[str, float]:
    """Statistics of the head-mask fractions [N] of the frames."""
    return {
        "mean": float(coverages.mean()),
        "min": float(coverages.min()),
        "p05": float(np.percentile(coverages, 5)),
        "p95": float(np.percentile(coverages, 95)),
        "max": float(coverages.max()),
    }
