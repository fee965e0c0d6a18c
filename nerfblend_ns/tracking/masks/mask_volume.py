"""The head-fixed volumes a head mask may cover, and their outlines in a frame seen by a known camera.

Everything here lives in the workspace's world frame (head-fixed, metres, +y up, +z out of the face,
origin near the head centre), so a cut defined here moves with the head, whatever the frame's pose:

- the head volume: an ellipsoid about the head and its hair, inside the workspace's ball (the NeRF's
  bound), behind a plane just in front of the nose (so its image stays above the chin when the head
  bows), and above a horizontal cut plane under the ear lobes; from the ears down to the cut it is
  only as wide as the head with its ears, which keeps collars and shoulders beside the jaw out. Below
  the cut only the face (inside the jaw line) is kept. Hair that falls below the cut or beside the
  ears is cut along the image of these planes, which is the same curve on the head in every frame.
- the neck: a vertical cylinder in the head frame under the cut plane. By default it only hides: a
  pixel whose ray meets the neck before the skull (an ellipsoid a little larger than a skull) sees the
  neck, although its ray crosses the head volume's air beside or behind the head (seen from below, the
    neck under the chin lies in front of the back of the head; seen from above, beside the jaw). On
  request it is kept, down to a horizontal plane of the head frame.

The head volume is the union of two convex parts and the neck is convex: the image of a convex part is
the convex hull of the images of its boundary points.
"""

import functools
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

WORKSPACE_RADIUS_M = 0.16
"""Radius of the ball around the world origin that holds the head (docs/workspace-format.md)."""
HEAD_RADII_M = np.array([0.12, WORKSPACE_RADIUS_M, WORKSPACE_RADIUS_M])
"""Half-axes of the head volume's ellipsoid about the origin: narrower across, where no hair hides the neck."""
SKULL_RADII_M = np.array([0.085, 0.11, 0.11])
"""Half-axes of the skull about the origin, a little larger than a head: what the neck cannot hide."""
EAR_LEVEL_Y_M = -0.01
"""Height (head frame) from which down to the cut the head volume is only as wide as the head with its ears."""
BELOW_EARS_HALF_WIDTH_M = 0.08
"""Half-width of the head volume below EAR_LEVEL_Y_M: the ears reach about 8 cm from the midline."""
FRONT_Z_M = 0.11
"""The head volume ends this far in front of the head centre: past the nose tip (about 9 cm)."""
NECK_AXIS_Z_M = -0.015
"""z (head frame) of the neck cylinder's axis: the neck sits behind the chin, under the ears."""
NECK_RADIUS_M = 0.065
"""Radius of the neck cylinder: wider than a neck, the person segmentation trims it."""
_SPHERE_POINTS = 800
_FACE_GRID = 24
"""Samples along each side of a clipping face, for the outline of a clipped ellipsoid."""
_RIM_POINTS = 96
_PIXEL_LIMIT = 1e6
"""Beyond this, sub-pixel polygon corners would leave fillPoly's integer range."""


@dataclass(frozen=True)
class MaskVolumeConfig:
    """The head-fixed rule that bounds the head mask below the ears (world frame, metres)."""

    head_cut_y: float = -0.045
    """Height of the cut plane under the ears: below it only the face inside the jaw line is kept (hair, neck cut)."""
    keep_neck: bool = False
    """Also keep the neck, down to the neck plane (the default mask ends at the jaw line)."""
    neck_cut_y: float = -0.15
    """Height of the horizontal plane where a kept neck ends (about 4 cm below the chin)."""


def _fibonacci_sphere(count: int) -> np.ndarray:
    """Unit vectors [count, 3] spread evenly over the sphere."""
    index = np.arange(count) + 0.5
    polar = np.arccos(1.0 - 2.0 * index / count)
    azimuth = np.pi * (1.0 + 5.0**0.5) * index
    return np.stack([np.sin(polar) * np.cos(azimuth), np.cos(polar), np.sin(polar) * np.sin(azimuth)], axis=-1)


def _circle(count: int) -> np.ndarray:
    """Unit circle points [count, 2]."""
    angle = np.linspace(0.0, 2.0 * np.pi, count, endpoint=False)
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def _frozen(array: np.ndarray) -> np.ndarray:
    """The array made read-only: cached results are shared between frames."""
    array.setflags(write=False)
    return array


def _clipped_ellipsoid_points(radii: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Boundary points [M, 3] of the ellipsoid about the origin with half-axes radii [3], cut to the box [low, high]:
    its surface inside the box, and each box face inside it."""
    points = [radii * _fibonacci_sphere(_SPHERE_POINTS)]
    for axis in range(3):
        others = [other for other in range(3) if other != axis]
        grid = np.stack(
            np.meshgrid(*(np.linspace(-radii[other], radii[other], _FACE_GRID) for other in others)), axis=-1
        ).reshape(-1, 2)
        for bound in (low[axis], high[axis]):
            if abs(bound) < radii[axis]:
                face = np.empty((len(grid), 3))
                face[:, axis], face[:, others] = bound, grid
                points.append(face)
    points = np.concatenate(points)
    inside_box = np.all((points >= low - 1e-9) & (points <= high + 1e-9), axis=1)
    inside_ellipsoid = np.sum((points / radii) ** 2, axis=1) <= 1.0 + 1e-9
    return points[inside_box & inside_ellipsoid]


@functools.lru_cache(maxsize=4)
def head_volume_parts(config: MaskVolumeConfig) -> Tuple[np.ndarray, ...]:
    """Boundary points [M, 3] of each convex part of the head volume: above the ears, and below them to the cut."""
    unbounded = 2.0 * WORKSPACE_RADIUS_M
    upper = _clipped_ellipsoid_points(
        HEAD_RADII_M, np.array([-unbounded, EAR_LEVEL_Y_M, -unbounded]), np.array([unbounded, unbounded, FRONT_Z_M])
    )
    lower = _clipped_ellipsoid_points(
        HEAD_RADII_M,
        np.array([-BELOW_EARS_HALF_WIDTH_M, config.head_cut_y, -unbounded]),
        np.array([BELOW_EARS_HALF_WIDTH_M, max(EAR_LEVEL_Y_M, config.head_cut_y), FRONT_Z_M]),
    )
    return tuple(_frozen(part) for part in (upper, lower) if len(part))


@functools.lru_cache(maxsize=8)
def neck_volume_points(config: MaskVolumeConfig, bottom: float) -> np.ndarray:
    """Rim points [M, 3] of the neck cylinder, from above the head cut plane (so it joins the head volume) down to
    the height bottom."""
    ring = NECK_RADIUS_M * _circle(_RIM_POINTS)  # [R, 2] in (x, z)
    rims = []
    for height in (config.head_cut_y + NECK_RADIUS_M, bottom):
        rims.append(np.stack([ring[:, 0], np.full(len(ring), height), NECK_AXIS_Z_M + ring[:, 1]], axis=-1))
    return _frozen(np.concatenate(rims))


def _ellipsoid_interval(origin: np.ndarray, dirs: np.ndarray, radii: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Entry and exit distances [N], [N] of rays dirs [N, 3] from origin [3] through the ellipsoid about the origin."""
    o, d = origin / radii, dirs / radii
    a = np.einsum("ij,ij->i", d, d)
    b = d @ o
    disc = b**2 - a * (o @ o - 1.0)
    root = np.sqrt(np.maximum(disc, 0.0))
    return np.where(disc > 0, (-b - root) / a, np.inf), np.where(disc > 0, (-b + root) / a, -np.inf)


def _cylinder_interval(origin: np.ndarray, dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Entry and exit distances [N], [N] of rays through the neck's infinite vertical cylinder."""
    offset = origin[[0, 2]] - np.array([0.0, NECK_AXIS_Z_M])  # [2]
    flat = dirs[:, [0, 2]]  # [N, 2]
    a = np.maximum(np.einsum("ij,ij->i", flat, flat), 1e-12)
    b = flat @ offset
    disc = b**2 - a * (offset @ offset - NECK_RADIUS_M**2)
    root = np.sqrt(np.maximum(disc, 0.0))
    return np.where(disc > 0, (-b - root) / a, np.inf), np.where(disc > 0, (-b + root) / a, -np.inf)


def _halfspace_interval(
    origin: np.ndarray, dirs: np.ndarray, normal: np.ndarray, offset: float
) -> Tuple[np.ndarray, np.ndarray]:
    """Entry and exit distances [N], [N] of rays through the half-space normal · p ≥ offset."""
    height = origin @ normal - offset  # how far the origin lies inside
    rise = dirs @ normal  # [N]
    with np.errstate(divide="ignore"):
        crossing = -height / rise
    enter = np.where(rise > 0, crossing, np.where(height >= 0, -np.inf, np.inf))
    leave = np.where(rise < 0, crossing, np.where((rise > 0) | (height >= 0), np.inf, -np.inf))
    return enter, leave


def neck_in_front(
    config: MaskVolumeConfig,
    pixels: np.ndarray,  # [N, 2] pixel centres
    camera_to_world: np.ndarray,  # [4, 4] OpenGL camera
    intrinsics: PinholeIntrinsics,
) -> np.ndarray:
    """Which pixels' rays [N] meet the neck under the head cut plane before the skull above it."""
    local = np.stack(
        [
            (pixels[:, 0] - intrinsics.cx) / intrinsics.fx,
            (intrinsics.cy - pixels[:, 1]) / intrinsics.fy,
            -np.ones(len(pixels)),
        ],
        axis=-1,
    )
    dirs = local @ camera_to_world[:3, :3].T
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)  # [N, 3]
    origin = camera_to_world[:3, 3]
    above_in, above_out = _halfspace_interval(origin, dirs, np.array([0.0, 1.0, 0.0]), config.head_cut_y)
    skull_in, skull_out = _ellipsoid_interval(origin, dirs, SKULL_RADII_M)
    skull_in, skull_out = np.maximum(skull_in, above_in), np.minimum(skull_out, above_out)  # the skull above the cut
    neck_in, neck_out = _cylinder_interval(origin, dirs)
    # Below the plane = outside the half-space above it: before the ray enters it or after it leaves.
    neck_in_below = np.where(neck_in < above_in, neck_in, np.maximum(neck_in, above_out))
    neck_hit = (neck_in_below < neck_out) & (neck_out > 0)
    return neck_hit & ((skull_in >= skull_out) | (neck_in_below < skull_in))


def head_volume_image(
    config: MaskVolumeConfig, camera_to_world: np.ndarray, intrinsics: PinholeIntrinsics
) -> np.ndarray:
    """Boolean image [H, W] of the pixels whose ray meets the head volume."""
    image = np.zeros((intrinsics.height, intrinsics.width), dtype=bool)
    for part in head_volume_parts(config):
        image |= volume_image(part, camera_to_world, intrinsics)
    return image


def volume_image(
    points_world: np.ndarray,  # [M, 3] boundary points of a convex volume
    camera_to_world: np.ndarray,  # [4, 4] OpenGL camera
    intrinsics: PinholeIntrinsics,
) -> np.ndarray:
    """Boolean image [H, W] of the pixels whose centre sees the convex volume; all of it when the camera is inside."""
    shape = (intrinsics.height, intrinsics.width)
    local = (points_world - camera_to_world[:3, 3]) @ camera_to_world[:3, :3]  # [M, 3] camera coordinates
    depth = -local[:, 2]
    if np.any(depth <= 1e-6):  # the volume reaches behind the camera: its image is unbounded
        return np.ones(shape, dtype=bool)
    pixels = np.stack(
        [intrinsics.cx + intrinsics.fx * local[:, 0] / depth, intrinsics.cy - intrinsics.fy * local[:, 1] / depth],
        axis=-1,
    )  # [M, 2]
    if np.abs(pixels).max() > _PIXEL_LIMIT:  # nearly touching the camera plane: no image-sized outline
        return np.ones(shape, dtype=bool)
    return convex_polygon_image(pixels, shape)


def convex_polygon_image(vertices: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Boolean image [H, W] of the pixel centres inside the convex hull of points [M, 2] (pixel coordinates)."""
    region = np.zeros(shape, np.uint8)
    # Pixel centres sit at +0.5 and fillPoly works on integer corners: shift by 0.5 on a 1/16 sub-pixel grid.
    corners = np.round((vertices - 0.5) * 16).astype(np.int32)
    hull = cv2.convexHull(corners)
    cv2.fillConvexPoly(region, hull, 1, lineType=cv2.LINE_8, shift=4)
    return region > 0
