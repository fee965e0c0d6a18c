"""Head poses of a whole clip: one rigid template of the stable landmarks and every frame's pose, fitted jointly.

MediaPipe fits its generic face model to each frame on its own; nothing ties the frames to one rigid head,
and the jaw and lips pull on the pose. Here the subject's own rigid template of landmarks that expressions
barely move (forehead, nose bridge, eye corners, temples) is estimated from the clip, and the poses are
fitted to it with a robust (Cauchy) reprojection loss:

1. template from MediaPipe's poses: each landmark's ray, at the depth MediaPipe gives it, in the head frame,
   averaged over the frames;
2. a few rounds of: each frame's pose by robust Gauss–Newton given the template; the template by a robust
   average, over frames, of the points of each landmark's ray nearest to it (a triangulation);
3. every pose at once by robust Gauss–Newton with a penalty on each pose's second difference in time
   (head acceleration), within runs of consecutive frames: a sparse block-banded system. The penalty
   is on the acceleration in seconds, not in tracked frames: the second difference is divided by the
   square of the time between tracked frames (in units of REFERENCE_STEP_S), so a clip tracked at
   every 5th frame is smoothed over the same time span as one tracked at every frame.

The template is finally moved (rigidly, at its initial scale) onto the MediaPipe-based one, so the world
frame stays the one docs/workspace-format.md describes. Poses are head-to-camera transforms (R, p) of an
OpenGL camera (looking down −z), in metres.
"""

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.spatial.transform import Rotation

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

STABLE_LANDMARKS = (
    10, 151, 9, 109, 338, 67, 297, 108, 337,  # forehead
    168, 6, 197, 195,  # nose bridge
    33, 133, 263, 362,  # eye corners
    127, 356, 162, 389, 21, 251, 234, 454,  # temples, level with the ears
)  # fmt: skip
"""Face-mesh landmarks that expressions barely move: the jaw, lips, cheeks and brows are left out."""
REFERENCE_STEP_S = 1.0 / 25.0
"""Time between tracked frames in which the smoothness is stated (every frame of a 25 fps video)."""


@dataclass(frozen=True)
class PoseFitConfig:
    """The joint fit of a rigid landmark template and every frame's head pose."""

    enabled: bool = False
    """Fit the poses instead of smoothing MediaPipe's in time as configured under smoothing (off: on the fidelity
    benchmark its workspaces scored lower, docs/tracking.md)."""
    rounds: int = 4
    """Rounds of alternating pose and template updates."""
    robust_scale_px: float = 1.5
    """Cauchy loss scale, in pixels: residuals much larger than this barely pull on a pose."""
    smoothness: float = 10.0
    """Weight of the head acceleration penalty: a second difference of 1° (or of translation_per_degree) over
    frames 1/25 s apart costs as much as this many pixels of reprojection residual; other spacings are scaled
    to the same acceleration in seconds."""
    translation_per_degree: float = 0.002
    """Second difference of the head's position (metres) that costs as much as 1° of rotation: the depth, which
    the landmarks measure poorly, needs a stiff prior."""


@dataclass(frozen=True)
class PoseFit:
    """What the joint fit found."""

    camera_to_world: np.ndarray
    """[N, 4, 4] fitted OpenGL cameras in the head-fixed world."""
    template: np.ndarray
    """[K, 3] the stable landmarks in the head-fixed world (metres)."""


def _rotation_matrices(rotvec: np.ndarray) -> np.ndarray:
    return Rotation.from_rotvec(rotvec.reshape(-1, 3)).as_matrix().reshape(*rotvec.shape[:-1], 3, 3)


def _cross_matrix(vectors: np.ndarray) -> np.ndarray:
    """[..., 3, 3] matrices of the cross product with vectors [..., 3]."""
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    zero = np.zeros_like(x)
    return np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)


def _project(camera_points: np.ndarray, intrinsics: PinholeIntrinsics) -> Tuple[np.ndarray, np.ndarray]:
    """Pixels [..., 2] of OpenGL camera points [..., 3] and the projection's Jacobian [..., 2, 3]."""
    x, y, depth = camera_points[..., 0], camera_points[..., 1], -camera_points[..., 2]
    depth = np.maximum(depth, 1e-6)
    pixels = np.stack([intrinsics.cx + intrinsics.fx * x / depth, intrinsics.cy - intrinsics.fy * y / depth], -1)
    zero = np.zeros_like(x)
    jacobian = np.stack(
        [
            np.stack([intrinsics.fx / depth, zero, intrinsics.fx * x / depth**2], -1),
            np.stack([zero, -intrinsics.fy / depth, -intrinsics.fy * y / depth**2], -1),
        ],
        -2,
    )
    return pixels, jacobian


def _residuals(
    rotation: np.ndarray, translation: np.ndarray, template: np.ndarray, observed: np.ndarray, intrinsics
) -> Tuple[np.ndarray, np.ndarray]:
    """Residuals [N, K, 2] (pixels) and their Jacobians [N, K, 2, 6] w.r.t. a left increment (ω, v) of each pose."""
    camera_points = np.einsum("nij,kj->nki", rotation, template) + translation[:, None]  # [N, K, 3]
    pixels, projection = _project(camera_points, intrinsics)
    point_jacobian = np.concatenate(
        [-_cross_matrix(camera_points), np.broadcast_to(np.eye(3), camera_points.shape + (3,))], -1
    )  # [N, K, 3, 6]
    return pixels - observed, projection @ point_jacobian


def _cauchy_weights(residuals: np.ndarray, scale: float) -> np.ndarray:
    """IRLS weights [N, K] of residuals [N, K, 2] under the Cauchy loss."""
    return 1.0 / (1.0 + np.sum(residuals**2, axis=-1) / scale**2)


def _apply_increment(rotation, translation, increment) -> Tuple[np.ndarray, np.ndarray]:
    step = _rotation_matrices(increment[:, :3])
    return step @ rotation, np.einsum("nij,nj->ni", step, translation) + increment[:, 3:]


def _per_frame_poses(rotation, translation, template, observed, intrinsics, scale, iterations=4):
    """Each frame's pose by robust Gauss–Newton given the template."""
    for _ in range(iterations):
        residuals, jacobian = _residuals(rotation, translation, template, observed, intrinsics)
        weights = _cauchy_weights(residuals, scale)[..., None, None]  # [N, K, 1, 1]
        normal = np.einsum("nkri,nkrj->nij", weights * jacobian, jacobian) + 1e-9 * np.eye(6)
        gradient = np.einsum("nkri,nkr->ni", weights * jacobian, residuals)
        increment = -np.linalg.solve(normal, gradient[..., None])[..., 0]
        rotation, translation = _apply_increment(rotation, translation, increment)
    return rotation, translation


def _triangulated_template(rotation, translation, template, observed, intrinsics, scale) -> np.ndarray:
    """Template [K, 3]: each landmark's point nearest (robustly weighted least squares) to its rays in all frames."""
    rays = np.stack(
        [
            (observed[..., 0] - intrinsics.cx) / intrinsics.fx,
            -(observed[..., 1] - intrinsics.cy) / intrinsics.fy,
            -np.ones(observed.shape[:2]),
        ],
        -1,
    )  # [N, K, 3] camera directions
    rays = np.einsum("nji,nkj->nki", rotation, rays)  # in the head frame
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    centres = -np.einsum("nji,nj->ni", rotation, translation)  # [N, 3] camera centres in the head frame
    residuals, _ = _residuals(rotation, translation, template, observed, intrinsics)
    weights = _cauchy_weights(residuals, scale)[..., None, None]  # [N, K, 1, 1]
    across = np.eye(3) - rays[..., :, None] * rays[..., None, :]  # [N, K, 3, 3] removes the along-ray part
    system = np.sum(weights * across, axis=0)  # [K, 3, 3]
    target = np.sum(weights * across @ centres[:, None, :, None], axis=0)  # [K, 3, 1]
    return np.linalg.solve(system, target)[..., 0]


def _rigid_alignment(source: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Rotation [3, 3] and translation [3] taking points source [K, 3] closest to target [K, 3]."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    u, _, vt = np.linalg.svd((target - target_mean).T @ (source - source_mean))
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ fix @ vt
    return rotation, target_mean - rotation @ source_mean


def _second_difference(runs: List[np.ndarray], count: int) -> scipy.sparse.csr_matrix:
    """[M, count] rows x[t−1] − 2 x[t] + x[t+1] for each interior frame t of each run."""
    rows, cols, values = [], [], []
    row = 0
    for run in runs:
        for middle in range(1, len(run) - 1):
            for offset, value in ((-1, 1.0), (0, -2.0), (1, 1.0)):
                rows.append(row)
                cols.append(int(run[middle + offset]))
                values.append(value)
            row += 1
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=(row, count))


def _smooth_poses(rotation, translation, template, observed, intrinsics, config, runs, step_s, iterations=4):
    """All poses at once: robust reprojection plus the acceleration penalty, by sparse Gauss–Newton."""
    count = len(rotation)
    difference = _second_difference(runs, count) * (REFERENCE_STEP_S / step_s) ** 2  # acceleration, not per frame
    unit = np.array([np.radians(1.0)] * 3 + [config.translation_per_degree] * 3)  # rotation in radians, position in m
    penalty_per_frame = scipy.sparse.diags(config.smoothness**2 / unit**2)
    prior = scipy.sparse.kron(difference.T @ difference, penalty_per_frame).tocsr()  # [6N, 6N]
    for _ in range(iterations):
        residuals, jacobian = _residuals(rotation, translation, template, observed, intrinsics)
        weights = _cauchy_weights(residuals, config.robust_scale_px)[..., None, None]
        blocks = np.einsum("nkri,nkrj->nij", weights * jacobian, jacobian)  # [N, 6, 6]
        gradient = np.einsum("nkri,nkr->ni", weights * jacobian, residuals).ravel()
        # The prior acts on (rotation vector, translation); a left increment ω changes the rotation vector by
        # about ω for the head turns of a talking-head clip, which is close enough for Gauss–Newton to converge.
        parameters = np.concatenate([Rotation.from_matrix(rotation).as_rotvec(), translation], axis=1).ravel()
        data = scipy.sparse.block_diag(list(blocks), format="csr")
        system = (data + prior + 1e-9 * scipy.sparse.identity(6 * count)).tocsc()
        increment = scipy.sparse.linalg.spsolve(system, -(gradient + prior @ parameters)).reshape(count, 6)
        rotation, translation = _apply_increment(rotation, translation, increment)
    return rotation, translation


def initial_template(
    landmarks: np.ndarray, camera_to_world: np.ndarray, intrinsics: PinholeIntrinsics
) -> np.ndarray:
    """Stable landmarks [K, 3] in the world, from frames' landmarks [N, 478, 3] (MediaPipe's relative depth in z,
    scaled like x) placed at the depth of MediaPipe's poses camera_to_world [N, 4, 4], averaged (median)."""
    points = landmarks[:, list(STABLE_LANDMARKS)]  # [N, K, 3]
    world_to_camera = np.linalg.inv(camera_to_world)
    origin_depth = -world_to_camera[:, 2, 3]  # [N] depth of the head centre
    depth = origin_depth[:, None] * (1.0 + points[..., 2] / intrinsics.fx)  # [N, K]
    camera_points = np.stack(
        [
            (points[..., 0] - intrinsics.cx) / intrinsics.fx * depth,
            -(points[..., 1] - intrinsics.cy) / intrinsics.fy * depth,
            -depth,
        ],
        -1,
    )
    world = np.einsum("nij,nkj->nki", camera_to_world[:, :3, :3], camera_points) + camera_to_world[:, None, :3, 3]
    return np.median(world, axis=0)


def fit_poses(
    landmarks: np.ndarray,  # [N, 478, 3] pixels (z: MediaPipe's relative depth)
    camera_to_world: np.ndarray,  # [N, 4, 4] MediaPipe's poses
    intrinsics: PinholeIntrinsics,
    runs: List[np.ndarray],  # index arrays of consecutive frames: smoothness applies within each
    config: PoseFitConfig,
    step_s: float = REFERENCE_STEP_S,
) -> PoseFit:
    """The clip's rigid template and every frame's pose, fitted jointly; step_s: seconds between tracked frames."""
    if not (np.isfinite(step_s) and step_s > 0):
        raise ValueError(f"the time between tracked frames must be positive, got {step_s} s")
    observed = landmarks[:, list(STABLE_LANDMARKS), :2].astype(np.float64)  # [N, K, 2]
    start = initial_template(landmarks, camera_to_world, intrinsics)
    world_to_camera = np.linalg.inv(camera_to_world)
    rotation, translation = world_to_camera[:, :3, :3], world_to_camera[:, :3, 3]
    template, scale = start.copy(), config.robust_scale_px
    spread = np.sqrt(np.mean(np.sum((start - start.mean(axis=0)) ** 2, axis=1)))
    for _ in range(config.rounds):
        rotation, translation = _per_frame_poses(rotation, translation, template, observed, intrinsics, scale)
        template = _triangulated_template(rotation, translation, template, observed, intrinsics, scale)
        # Size and depth trade off in a projection: keep the template's size, which fixes the world's scale.
        centre = template.mean(axis=0)
        template = centre + (template - centre) * spread / np.sqrt(np.mean(np.sum((template - centre) ** 2, axis=1)))
    # Put the template back where the MediaPipe-based one was, so the world frame stays the documented one.
    align, shift = _rigid_alignment(template, start)
    template = template @ align.T + shift
    rotation, translation = rotation @ align.T, translation - np.einsum("nij,j->ni", rotation @ align.T, shift)
    rotation, translation = _per_frame_poses(rotation, translation, template, observed, intrinsics, scale)
    rotation, translation = _smooth_poses(rotation, translation, template, observed, intrinsics, config, runs, step_s)
    fitted = np.tile(np.eye(4), (len(rotation), 1, 1))
    fitted[:, :3, :3] = np.transpose(rotation, (0, 2, 1))
    fitted[:, :3, 3] = -np.einsum("nji,nj->ni", rotation, translation)
    return PoseFit(camera_to_world=fitted, template=template)


def reprojection_rms_px(
    landmarks: np.ndarray, camera_to_world: np.ndarray, template: np.ndarray, intrinsics: PinholeIntrinsics
) -> float:
    """RMS distance (pixels) between the stable landmarks [N, 478, ≥2] and the template [K, 3] seen by the cameras."""
    world_to_camera = np.linalg.inv(camera_to_world)
    residuals, _ = _residuals(
        world_to_camera[:, :3, :3],
        world_to_camera[:, :3, 3],
        template,
        landmarks[:, list(STABLE_LANDMARKS), :2],
        intrinsics,
    )
    return float(np.sqrt(np.mean(np.sum(residuals**2, axis=-1))))


def best_template(landmarks: np.ndarray, camera_to_world: np.ndarray, intrinsics: PinholeIntrinsics) -> np.ndarray:
    """The rigid template [K, 3] nearest (least squares) to the landmarks' rays of given poses: scores any poses."""
    world_to_camera = np.linalg.inv(camera_to_world)
    observed = landmarks[:, list(STABLE_LANDMARKS), :2].astype(np.float64)
    template = np.zeros((len(STABLE_LANDMARKS), 3))  # unused: infinite scale weighs every ray alike
    return _triangulated_template(
        world_to_camera[:, :3, :3], world_to_camera[:, :3, 3], template, observed, intrinsics, np.inf
    )
