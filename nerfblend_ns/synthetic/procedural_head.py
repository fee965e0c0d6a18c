"""A procedural head driven by four expression coefficients, ray cast analytically in numpy.

The head is a union of convex solids (ellipsoids, half-spaces, a cylinder) minus a mouth cavity, all
fixed in the head frame of docs/workspace-format.md, and lit by lights fixed in that frame: every
view of one expression sees the same coloured surface, which is what a NeRF can learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np

from nerfblend_ns.pinhole_intrinsics import PinholeIntrinsics

EXPRESSION_NAMES = ("jawOpen", "mouthSmile", "browRaise", "eyeBlink")
BACKGROUND_RGB = (112, 124, 138)
"""Flat background colour (8-bit RGB) behind the head."""
CAMERA_DISTANCE = 0.6
"""Camera distance from the head centre (the world origin), metres."""
FOCAL_PER_PIXEL = 1.5
"""fx = fy = FOCAL_PER_PIXEL · image size: the ~0.26 m of head and neck fill ~65 % of the frame at 0.6 m."""
NOSE_TIP = np.array([0.0, -0.014, 0.096])  # [3]
EYE_CENTRES = np.array([[0.028, 0.012, 0.069], [-0.028, 0.012, 0.069]])  # [2, 3]
EYE_RADIUS = 0.0125
IRIS_CENTRES = EYE_CENTRES + np.array([0.0, 0.0, EYE_RADIUS])  # [2, 3], the eyes look down +z

_INSIDE_MARGIN = 1e-7
"""A point on two coincident surfaces must not count as inside either, or both would hide it."""
_AMBIENT = 0.38
_LIGHTS = (  # (direction towards the light in the head frame, strength)
    (np.array([0.35, 0.5, 0.8]) / np.linalg.norm([0.35, 0.5, 0.8]), 0.55),
    (np.array([-0.6, 0.1, -0.4]) / np.linalg.norm([-0.6, 0.1, -0.4]), 0.15),
)

_EYE_Y = float(EYE_CENTRES[0, 1])
_LID_RADIUS = 0.0136
_LOWER_LID_CUT = _EYE_Y - 0.6 * EYE_RADIUS

_SKIN = np.array([0.88, 0.67, 0.53])
_HAIR = np.array([0.30, 0.19, 0.11])
_BROW = np.array([0.20, 0.12, 0.08])
_LASH = np.array([0.10, 0.07, 0.06])
_LIP = np.array([0.76, 0.32, 0.33])
_BLUSH = np.array([0.90, 0.52, 0.48])
_MOUTH_INSIDE = np.array([0.30, 0.06, 0.07])
_TEETH = np.array([0.88, 0.86, 0.80])
_SCLERA = np.array([0.95, 0.95, 0.93])
_IRIS = np.array([0.18, 0.42, 0.72])
_PUPIL = np.array([0.03, 0.03, 0.04])

Albedo = Callable[[np.ndarray], np.ndarray]
"""Surface colour at points [M, 3] → [M, 3] in [0, 1]."""


@dataclass(frozen=True)
class Ellipsoid:
    """Axis-aligned ellipsoid; like every piece, it gives ray intervals, a level set, normals and a bound."""

    centre: np.ndarray  # [3]
    radii: np.ndarray  # [3]

    def interval(self, origin: np.ndarray, dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Where rays from origin [3] along dirs [N, 3] enter and leave: [N], [N]; (inf, -inf) on a miss."""
        o = (origin - self.centre) / self.radii  # [3]
        d = dirs / self.radii  # [N, 3]
        a = np.einsum("ij,ij->i", d, d)
        b = d @ o
        disc = b * b - a * (o @ o - 1.0)
        root = np.sqrt(np.maximum(disc, 0.0))
        hit = disc > 0.0
        return np.where(hit, (-b - root) / a, np.inf), np.where(hit, (-b + root) / a, -np.inf)

    def level(self, points: np.ndarray) -> np.ndarray:
        """Negative inside, for points [M, 3] → [M]."""
        q = (points - self.centre) / self.radii
        return np.einsum("ij,ij->i", q, q) - 1.0

    def normal(self, points: np.ndarray) -> np.ndarray:
        n = (points - self.centre) / self.radii**2  # [M, 3]
        return n / np.linalg.norm(n, axis=1, keepdims=True)

    def bound(self) -> Optional[Tuple[np.ndarray, float]]:
        """Bounding sphere (centre [3], radius), or None for an unbounded piece."""
        return self.centre, float(self.radii.max())

    def front_z(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """z of the +z-facing surface above (x, y), NaN off the ellipsoid."""
        inside = 1.0 - ((x - self.centre[0]) / self.radii[0]) ** 2 - ((y - self.centre[1]) / self.radii[1]) ** 2
        with np.errstate(invalid="ignore"):
            return self.centre[2] + self.radii[2] * np.sqrt(inside)


@dataclass(frozen=True)
class HalfSpace:
    """Points p with (p − point)·normal ≤ 0; normal is the outward unit normal."""

    point: np.ndarray  # [3]
    normal_dir: np.ndarray  # [3]

    def interval(self, origin: np.ndarray, dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        start = float((origin - self.point) @ self.normal_dir)
        rate = dirs @ self.normal_dir  # [N]
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = -start / rate
        parallel_outside = (rate == 0.0) & (start > 0.0)
        t_near = np.where(rate < 0.0, crossing, np.where(parallel_outside, np.inf, -np.inf))
        t_far = np.where(rate > 0.0, crossing, np.where(parallel_outside, -np.inf, np.inf))
        return t_near, t_far

    def level(self, points: np.ndarray) -> np.ndarray:
        return (points - self.point) @ self.normal_dir

    def normal(self, points: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.normal_dir, points.shape)

    def bound(self) -> Optional[Tuple[np.ndarray, float]]:
        return None


@dataclass(frozen=True)
class VerticalCylinder:
    """Infinite cylinder around the vertical line through (x, ·, z) = axis."""

    axis: Tuple[float, float]
    radius: float

    def interval(self, origin: np.ndarray, dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        o = np.array([origin[0] - self.axis[0], origin[2] - self.axis[1]]) / self.radius  # [2]
        d = dirs[:, [0, 2]] / self.radius  # [N, 2]
        a = np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
        b = d @ o
        disc = b * b - a * (o @ o - 1.0)
        root = np.sqrt(np.maximum(disc, 0.0))
        hit = disc > 0.0
        return np.where(hit, (-b - root) / a, np.inf), np.where(hit, (-b + root) / a, -np.inf)

    def level(self, points: np.ndarray) -> np.ndarray:
        return ((points[:, 0] - self.axis[0]) ** 2 + (points[:, 2] - self.axis[1]) ** 2) / self.radius**2 - 1.0

    def normal(self, points: np.ndarray) -> np.ndarray:
        n = np.stack([points[:, 0] - self.axis[0], np.zeros(len(points)), points[:, 2] - self.axis[1]], axis=1)
        return n / np.linalg.norm(n, axis=1, keepdims=True)

    def bound(self) -> Optional[Tuple[np.ndarray, float]]:
        return None


Piece = Union[Ellipsoid, HalfSpace, VerticalCylinder]


@dataclass(frozen=True)
class Solid:
    """Intersection of convex pieces, so each ray meets it in one interval."""

    pieces: Tuple[Piece, ...]
    albedo: Albedo
    carvable: bool = False
    """Whether the mouth cavity cuts it."""
    lit: bool = True
    """False inside the mouth, which the head-fixed lights cannot reach: its colour is the albedo."""
    neck: bool = False
    """Whether it is the neck, which a head mask should leave out."""

    def interval(self, origin: np.ndarray, dirs: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Entry and exit parameters [N], [N] and the index [N], [N] of the piece bounding each."""
        t_near, t_far = self.pieces[0].interval(origin, dirs)
        near_piece, far_piece = np.zeros(len(dirs), dtype=int), np.zeros(len(dirs), dtype=int)
        for index, piece in enumerate(self.pieces[1:], start=1):
            near, far = piece.interval(origin, dirs)
            later, earlier = near > t_near, far < t_far
            t_near, t_far = np.where(later, near, t_near), np.where(earlier, far, t_far)
            near_piece[later], far_piece[earlier] = index, index
        return t_near, t_far, near_piece, far_piece

    def contains(self, points: np.ndarray) -> np.ndarray:
        inside = np.ones(len(points), dtype=bool)
        for piece in self.pieces:
            inside &= piece.level(points) < -_INSIDE_MARGIN
        return inside

    def normal(self, points: np.ndarray, piece_index: np.ndarray) -> np.ndarray:
        normals = np.empty_like(points)  # [M, 3]
        for index, piece in enumerate(self.pieces):
            chosen = piece_index == index
            normals[chosen] = piece.normal(points[chosen])
        return normals

    def bound(self) -> Optional[Tuple[np.ndarray, float]]:
        bounds = [bound for bound in (piece.bound() for piece in self.pieces) if bound is not None]
        return min(bounds, key=lambda bound: bound[1]) if bounds else None


def _overlap(first: Solid, second: Solid) -> bool:
    a, b = first.bound(), second.bound()
    return a is None or b is None or float(np.linalg.norm(a[0] - b[0])) < a[1] + b[1]


@dataclass(frozen=True)
class HeadScene:
    """Visible material = (carvable solids − cavities) ∪ other solids."""

    solids: Tuple[Solid, ...]
    cavities: Tuple[Solid, ...]

    def _inside_any(self, points: np.ndarray, solids: Sequence[Solid], surface: Solid) -> np.ndarray:
        inside = np.zeros(len(points), dtype=bool)
        for solid in solids:
            if solid is not surface and _overlap(solid, surface):
                inside |= solid.contains(points)
        return inside

    def on_boundary(self, surface: Solid, points: np.ndarray) -> np.ndarray:
        """Which points [M, 3] on the boundary of `surface` lie on the boundary of the visible material [M]."""
        in_carvable = self._inside_any(points, [s for s in self.solids if s.carvable], surface)
        in_solid = self._inside_any(points, [s for s in self.solids if not s.carvable], surface)
        in_cavity = self._inside_any(points, self.cavities, surface)
        if any(surface is cavity for cavity in self.cavities):
            return in_carvable & ~in_cavity & ~in_solid
        covered = in_solid | (in_carvable & ~in_cavity)
        return ~covered & ~(surface.carvable & in_cavity)


@dataclass(frozen=True)
class MouthShape:
    """Lip lines of one expression, in the head frame (metres)."""

    half_width: float
    upper: float
    """y of the upper lip's middle line at x = 0."""
    lower: float
    """y of the lower lip's middle line at x = 0."""
    corner_lift: float
    """How far the corners rise above the middle lines."""
    lip_half_thickness: float = 0.0036

    def lift(self, x: np.ndarray) -> np.ndarray:
        return self.corner_lift * np.clip(x / self.half_width, -1.0, 1.0) ** 2

    def lip_profile(self, x: np.ndarray) -> np.ndarray:
        """Lip half-thickness along x, tapering to zero at the corners."""
        return self.lip_half_thickness * np.sqrt(np.clip(1.0 - (x / self.half_width) ** 2, 0.0, None))

    def on_lips(self, points: np.ndarray) -> np.ndarray:
        x, y = points[:, 0], points[:, 1]
        profile, lift = self.lip_profile(x), self.lift(x)
        near_line = (np.abs(y - self.upper - lift) < profile) | (np.abs(y - self.lower - lift) < profile)
        return near_line & (points[:, 2] > 0.03)

    def outline(self) -> np.ndarray:
        """Outer lip edge as (x, y) points [2·S, 2]."""
        x = np.linspace(-self.half_width, self.half_width, 11)
        top = self.upper + self.lift(x) + self.lip_profile(x)
        bottom = self.lower + self.lift(x) - self.lip_profile(x)
        return np.concatenate([np.stack([x, top], 1), np.stack([x, bottom], 1)])


def _vec(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def _unit(*values: float) -> np.ndarray:
    return _vec(*values) / np.linalg.norm(values)


def _flat(colour: np.ndarray) -> Albedo:
    return lambda points: np.broadcast_to(colour, points.shape)


_HEAD = Ellipsoid(_vec(0.0, 0.015, -0.005), _vec(0.074, 0.098, 0.088))


@dataclass(frozen=True)
class HeadLayout:
    """Where the expression puts the moving parts."""

    jaw: Ellipsoid
    mouth: MouthShape
    brow_height: float
    eyelid_cut: float
    """y below which the upper eyelids leave the eyes uncovered."""
    blush: float
    """Cheek redness, which grows with the smile."""

    @staticmethod
    def of(expression: np.ndarray) -> HeadLayout:
        jaw_open, smile, brow_raise, blink = np.clip(np.asarray(expression, dtype=np.float64), 0.0, 1.0)
        jaw_drop = 0.014 * jaw_open
        mouth_y = -0.052 - 0.4 * jaw_drop
        return HeadLayout(
            jaw=Ellipsoid(_vec(0.0, -0.045 - jaw_drop, -0.004), _vec(0.06, 0.06, 0.078)),
            mouth=MouthShape(
                half_width=0.024 + 0.006 * smile,
                upper=mouth_y + 0.0045,
                lower=mouth_y - 0.0045 - 0.02 * jaw_open,
                corner_lift=0.008 * smile,
            ),
            brow_height=_EYE_Y + 0.024 + 0.011 * brow_raise,
            eyelid_cut=_EYE_Y + EYE_RADIUS * (0.55 - 1.17 * blink),
            blush=0.35 + 0.4 * smile,
        )

    def face_z(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """z of the front of the face above (x, y), NaN off the face."""
        return np.fmax(_HEAD.front_z(x, y), self.jaw.front_z(x, y))


def _skin_albedo(layout: HeadLayout) -> Albedo:
    def albedo(points: np.ndarray) -> np.ndarray:
        cheek = np.minimum(np.abs(points[:, 0]) - 0.042, 0.0) ** 2 + (points[:, 1] + 0.018) ** 2
        blush = layout.blush * np.exp(-cheek / 0.014**2) * (points[:, 2] > 0.0)  # [M]
        colour = _SKIN + blush[:, None] * (_BLUSH - _SKIN)
        return np.where(layout.mouth.on_lips(points)[:, None], _LIP, colour)

    return albedo


def _hair_albedo(points: np.ndarray) -> np.ndarray:
    # Strands run front to back, so the stripes vary across x, wavering along z.
    strands = np.sin(260.0 * points[:, 0] + 6.0 * np.sin(45.0 * points[:, 2]))
    return _HAIR * (0.82 + 0.18 * strands)[:, None]


def _eye_albedo(centre: np.ndarray) -> Albedo:
    def albedo(points: np.ndarray) -> np.ndarray:
        gaze = (points[:, 2] - centre[2]) / EYE_RADIUS  # [M], cosine from the gaze direction +z
        colour = np.where((gaze > math.cos(math.radians(30)))[:, None], _IRIS, _SCLERA)
        return np.where((gaze > math.cos(math.radians(13)))[:, None], _PUPIL, colour)

    return albedo


def _upper_lid_albedo(cut: float) -> Albedo:
    def albedo(points: np.ndarray) -> np.ndarray:
        return np.where((points[:, 1] < cut + 0.0013)[:, None], _LASH, 0.94 * _SKIN)

    return albedo


def _eye_solids(centre: np.ndarray, layout: HeadLayout) -> Tuple[Solid, ...]:
    """Eye, eyelids, brow and ear on the side of the eye centred at centre [3]."""
    side = math.copysign(1.0, centre[0])
    lid = Ellipsoid(centre, _vec(_LID_RADIUS, _LID_RADIUS, _LID_RADIUS))
    brow_x = 0.03 * side
    brow_z = float(layout.face_z(np.array(brow_x), np.array(layout.brow_height)))
    return (
        Solid((Ellipsoid(centre, _vec(EYE_RADIUS, EYE_RADIUS, EYE_RADIUS)),), _eye_albedo(centre)),
        Solid((lid, HalfSpace(_vec(0, layout.eyelid_cut, 0), _vec(0, -1, 0))), _upper_lid_albedo(layout.eyelid_cut)),
        Solid((lid, HalfSpace(_vec(0, _LOWER_LID_CUT, 0), _vec(0, 1, 0))), _flat(0.94 * _SKIN)),
        Solid((Ellipsoid(_vec(brow_x, layout.brow_height, brow_z - 0.0015), _vec(0.017, 0.0032, 0.005)),),
              _flat(_BROW)),
        Solid((Ellipsoid(_vec(0.072 * side, 0.004, -0.012), _vec(0.011, 0.023, 0.014)),), _flat(_SKIN)),
    )


def _mouth_solids(layout: HeadLayout) -> Tuple[Tuple[Solid, ...], Tuple[Solid, ...]]:
    """Teeth and the cavity ellipsoids, laid along the smiling mouth line."""
    mouth = layout.mouth
    middle = 0.5 * (mouth.upper + mouth.lower)
    half_gap = 0.5 * (mouth.upper - mouth.lower) - 0.8 * mouth.lip_half_thickness
    cavities = []
    for along in (-0.45, 0.0, 0.45):
        x = along * mouth.half_width
        y = middle + float(mouth.lift(np.array(x)))
        z = float(layout.face_z(np.array(x), np.array(y)))
        # Centred near the skin, so the skin cuts the cavity through its widest section.
        radii = _vec(0.6 * mouth.half_width, half_gap * math.sqrt(1.0 - 0.5 * along**2), 0.014)
        cavities.append(Solid((Ellipsoid(_vec(x, y, z - 0.002), radii),), _flat(_MOUTH_INSIDE), lit=False))
    teeth_z = float(layout.face_z(np.array(0.0), np.array(mouth.upper)))
    teeth = Ellipsoid(_vec(0.0, mouth.upper - 0.0035, teeth_z - 0.009), _vec(0.6 * mouth.half_width, 0.005, 0.008))
    return (Solid((teeth,), _flat(_TEETH), lit=False),), tuple(cavities)


def build_head(expression: np.ndarray) -> HeadScene:
    """The head for expression coefficients [4] (EXPRESSION_NAMES order, each in [0, 1])."""
    layout = HeadLayout.of(expression)
    skin = _skin_albedo(layout)
    hairline = HalfSpace(_vec(0.0, 0.07, 0.075), _unit(0.0, -0.17, 0.09))
    neck = (VerticalCylinder((0.0, -0.015), 0.042), HalfSpace(_vec(0, -0.03, 0), _vec(0, 1, 0)),
            HalfSpace(_vec(0, -0.145, 0), _vec(0, -1, 0)))
    teeth, cavities = _mouth_solids(layout)
    solids = (
        Solid((_HEAD,), skin, carvable=True),
        Solid((layout.jaw,), skin, carvable=True),
        Solid((Ellipsoid(_vec(0.0, 0.019, -0.008), _vec(0.079, 0.103, 0.093)), hairline), _hair_albedo),
        Solid((Ellipsoid(NOSE_TIP - _vec(0.0, 0.0, 0.016), _vec(0.011, 0.019, 0.016)),), skin),
        Solid(neck, _flat(0.92 * _SKIN), neck=True),
        *(solid for centre in EYE_CENTRES for solid in _eye_solids(centre, layout)),
        *teeth,
    )
    return HeadScene(solids, cavities)


def mouth_points(expression: np.ndarray) -> np.ndarray:
    """Points [M, 3] on the outer lip edge, in the head frame."""
    layout = HeadLayout.of(expression)
    xy = layout.mouth.outline()
    return np.column_stack([xy, layout.face_z(xy[:, 0], xy[:, 1])])


def face_points(expression: np.ndarray) -> np.ndarray:
    """Points [M, 3] on the face from brow to chin and cheek to cheek, in the head frame."""
    layout = HeadLayout.of(expression)
    chin = layout.jaw.centre[1] - 0.9 * layout.jaw.radii[1]
    x, y = np.meshgrid(np.linspace(-0.06, 0.06, 9), np.linspace(chin, layout.brow_height + 0.012, 9))
    points = np.column_stack([x.ravel(), y.ravel(), layout.face_z(x.ravel(), y.ravel())])
    return points[np.isfinite(points[:, 2])]


FACE_OVAL_POINTS = 36
"""Points of the synthetic face oval, as many as MediaPipe's FACE_OVAL has."""


def face_oval_points(expression: np.ndarray) -> np.ndarray:
    """Points [FACE_OVAL_POINTS, 3] on the front of the face around its oval, from the top of the forehead
    towards +x, in the head frame: the ellipse from brow to chin, inside the cheeks."""
    layout = HeadLayout.of(expression)
    chin, top = layout.jaw.centre[1] - 0.9 * layout.jaw.radii[1], layout.brow_height + 0.012
    angle = 2 * np.pi * np.arange(FACE_OVAL_POINTS) / FACE_OVAL_POINTS
    x, y = 0.055 * np.sin(angle), (top + chin) / 2 + (top - chin) / 2 * np.cos(angle)
    return np.column_stack([x, y, layout.face_z(x, y)])


@dataclass(frozen=True)
class PinholeCamera(PinholeIntrinsics):
    """Pinhole camera with OpenGL axes; pixel (row, col) is the ray through (col + ½, row + ½)."""

    camera_to_world: np.ndarray  # [4, 4]

    @staticmethod
    def square(resolution: int, camera_to_world: np.ndarray) -> PinholeCamera:
        focal = FOCAL_PER_PIXEL * resolution
        return PinholeCamera(resolution, resolution, focal, focal, resolution / 2, resolution / 2, camera_to_world)

    def rays(self) -> Tuple[np.ndarray, np.ndarray]:
        """Ray origin [3] and unit directions [H·W, 3], row-major, in the world frame."""
        cols, rows = np.meshgrid(np.arange(self.width) + 0.5, np.arange(self.height) + 0.5)
        local = np.stack([(cols - self.cx) / self.fx, (self.cy - rows) / self.fy, -np.ones_like(cols)], -1)
        dirs = local.reshape(-1, 3) @ self.camera_to_world[:3, :3].T
        return self.camera_to_world[:3, 3].copy(), dirs / np.linalg.norm(dirs, axis=1, keepdims=True)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates [M, 2] (x right, y down, top-left origin) of world points [M, 3]."""
        rotation, centre = self.camera_to_world[:3, :3], self.camera_to_world[:3, 3]
        local = (points - centre) @ rotation  # [M, 3]
        depth = -local[:, 2]
        return np.stack([self.cx + self.fx * local[:, 0] / depth, self.cy - self.fy * local[:, 1] / depth], 1)

    def depth(self, points: np.ndarray) -> np.ndarray:
        """Distance [M] of world points [M, 3] in front of the camera, along its viewing axis."""
        return (self.camera_to_world[:3, 3] - points) @ self.camera_to_world[:3, 2]

    def pixel_rect(self, points: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
        """[x0, y0, x1, y1] pixel box around the projections of points [M, 3], clipped; None if off-image."""
        pixels = self.project(points)
        x0, y0 = np.floor(pixels.min(axis=0)).astype(int)
        x1, y1 = np.floor(pixels.max(axis=0)).astype(int) + 1
        x0, x1 = max(int(x0), 0), min(int(x1), self.width)
        y0, y1 = max(int(y0), 0), min(int(y1), self.height)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def orbit_pose(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world [4, 4] at CAMERA_DISTANCE looking at the origin: the head seen turned by −(yaw, pitch, roll)."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    about_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    about_x = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    about_z = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    pose = np.eye(4)
    pose[:3, :3] = about_y @ about_x @ about_z
    pose[:3, 3] = pose[:3, 2] * CAMERA_DISTANCE  # the camera looks down its −z, so it sits on +z
    return pose


def _shade(albedo: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Lambert under head-fixed lights: colours [M, 3] depend on the surface only, not on the view."""
    light = np.full(len(normals), _AMBIENT)
    for direction, strength in _LIGHTS:
        light += strength * np.maximum(normals @ direction, 0.0)
    return albedo * light[:, None]


@dataclass(frozen=True)
class HeadRender:
    rgb: np.ndarray  # [H, W, 3] uint8
    mask: np.ndarray  # [H, W] bool, pixels whose ray first meets the head
    neck: np.ndarray  # [H, W] bool, the part of mask whose ray first meets the neck


def _rays_near(bound: Optional[Tuple[np.ndarray, float]], origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Indices [R] of the unit rays dirs [N, 3] that pass through the bounding sphere; all rays without one."""
    if bound is None:
        return np.arange(len(dirs))
    centre, radius = bound
    offset = origin - centre  # [3]
    along = dirs @ offset  # [N]
    return np.nonzero(along * along - offset @ offset + radius * radius > 0.0)[0]


def render_head(expression: np.ndarray, camera: PinholeCamera) -> HeadRender:
    """One sample per pixel centre, so the image and mask hold exactly what a NeRF's pixel rays see."""
    scene = build_head(expression)
    origin, dirs = camera.rays()
    depth = np.full(len(dirs), np.inf)  # [N]
    owner = np.full(len(dirs), -1)  # [N], index into surfaces
    normals = np.zeros_like(dirs)  # [N, 3]
    surfaces = [(solid, False) for solid in scene.solids] + [(cavity, True) for cavity in scene.cavities]
    for index, (solid, is_cavity) in enumerate(surfaces):
        rays = _rays_near(solid.bound(), origin, dirs)
        t_near, t_far, near_piece, far_piece = solid.interval(origin, dirs[rays])
        # Cavities are seen from inside: their far wall is the visible one.
        t, piece = (t_far, far_piece) if is_cavity else (t_near, near_piece)
        hit = (t_near < t_far) & (t > 0.0) & (t < depth[rays])
        rays, t, piece = rays[hit], t[hit], piece[hit]
        points = origin + t[:, None] * dirs[rays]
        visible = scene.on_boundary(solid, points)
        rays, t, piece, points = rays[visible], t[visible], piece[visible], points[visible]
        depth[rays], owner[rays] = t, index
        normals[rays] = solid.normal(points, piece) * (-1.0 if is_cavity else 1.0)
    rgb = np.tile(np.array(BACKGROUND_RGB, dtype=np.float64) / 255.0, (len(dirs), 1))  # [N, 3]
    for index, (solid, _) in enumerate(surfaces):
        rays = np.nonzero(owner == index)[0]
        points = origin + depth[rays, None] * dirs[rays]
        albedo = solid.albedo(points)
        rgb[rays] = _shade(albedo, normals[rays]) if solid.lit else albedo
    image = np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8).reshape(camera.height, camera.width, 3)
    neck = np.isin(owner, [index for index, (solid, _) in enumerate(surfaces) if solid.neck])
    shape = (camera.height, camera.width)
    return HeadRender(image, (owner >= 0).reshape(shape), neck.reshape(shape))


@dataclass(frozen=True)
class SyntheticClip:
    expressions: np.ndarray  # [F, 4] in [0, 1]
    camera_to_world: np.ndarray  # [F, 4, 4]


def _smooth_unit_signal(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """Sum of three sines [F], stretched so the clip spans exactly [0, 1]."""
    time = np.arange(num_frames) / max(num_frames, 1)
    cycles = rng.uniform(0.6, 3.2, size=3)
    phases = rng.uniform(0.0, 2.0 * math.pi, size=3)
    weights = rng.uniform(0.5, 1.0, size=3)
    signal = (weights * np.sin(2.0 * math.pi * cycles * time[:, None] + phases)).sum(axis=1)
    span = signal.max() - signal.min()
    return (signal - signal.min()) / span if span > 1e-9 else np.full(num_frames, 0.5)


def synthetic_clip(num_frames: int, seed: int) -> SyntheticClip:
    """Smooth expression and head-pose trajectories, the same for the same seed."""
    rng = np.random.default_rng(seed)
    expressions = np.stack([_smooth_unit_signal(rng, num_frames) for _ in EXPRESSION_NAMES], axis=1)
    yaw, pitch, roll = (
        math.radians(limit) * (2.0 * _smooth_unit_signal(rng, num_frames) - 1.0) for limit in (25.0, 12.0, 5.0)
    )
    poses = np.stack([orbit_pose(*angles) for angles in zip(yaw, pitch, roll)])
    return SyntheticClip(expressions, poses)
