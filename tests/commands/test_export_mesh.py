"""Marching cubes of the density: the surface sits where the density says, closed, written as PLY/OBJ."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from avatar_runs import BALL_DENSITY, GROWN_RADIUS, NEUTRAL_RADIUS

from nerfblend_ns.avatar.density_mesh import Mesh, iso_surface, sample_density
from nerfblend_ns.avatar.mesh_files import write_mesh
from nerfblend_ns.dataparsers.workspace_layout import HEAD_RADIUS_M
from nerfblend_ns.commands.export_mesh import entrypoint

# The install script provides it; a GPU machine set up with the runtime packages only may not.
trimesh = pytest.importorskip("trimesh")

RADIUS = 0.5


def ball(points: torch.Tensor) -> torch.Tensor:
    return 10.0 * (RADIUS - points.norm(dim=-1)).clamp(min=0) / RADIUS  # 10 at the centre, 0 from RADIUS out


def shared_edge_fraction(mesh: Mesh) -> float:
    """Fraction of edges used by exactly two faces: 1 for a closed surface."""
    edges = np.sort(mesh.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    counts = Counter(map(tuple, edges))
    return sum(count == 2 for count in counts.values()) / len(counts)


def sampled(box_min, box_max, resolution=32):
    return sample_density(ball, np.array(box_min, float), np.array(box_max, float), resolution, 4096, torch.device("cpu"))


def test_surface_of_a_ball_is_closed_and_at_its_radius():
    mesh = iso_surface(sampled([-1, -1, -1], [1, 1, 1]), threshold=5.0)  # σ = 5 at half the radius
    radii = np.linalg.norm(mesh.vertices, axis=1)
    assert len(mesh.faces) > 100
    assert np.abs(radii - RADIUS / 2).max() < 2 / 31  # within a grid cell
    assert shared_edge_fraction(mesh) == 1.0
    assert trimesh.Trimesh(mesh.vertices, mesh.faces).volume > 0  # faces wind outwards


def test_no_surface_far_from_the_density():
    assert len(iso_surface(sampled([0.6, 0.6, 0.6], [1, 1, 1]), threshold=5.0).faces) == 0


def test_a_surface_cut_by_the_box_is_closed_along_the_cut():
    mesh = iso_surface(sampled([0, -1, -1], [1, 1, 1]), threshold=5.0)
    assert shared_edge_fraction(mesh) == 1.0 and mesh.vertices[:, 0].min() > -1e-3


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_mesh_files_read_back(tmp_path: Path, suffix: str):
    mesh = iso_surface(sampled([-1, -1, -1], [1, 1, 1], 16), threshold=5.0)
    write_mesh(mesh, tmp_path / f"ball{suffix}")
    read = trimesh.load(tmp_path / f"ball{suffix}", process=False)
    assert np.allclose(read.vertices, mesh.vertices, atol=1e-5) and (read.faces == mesh.faces).all()


@pytest.mark.slow
def test_export_mesh_of_a_trained_avatar(tiny_avatar, monkeypatch, capsys):
    monkeypatch.chdir(tiny_avatar.root)
    common = ["--load-config", str(tiny_avatar.shaped_config), "--resolution", "40", "--threshold", str(BALL_DENSITY / 2)]
    entrypoint([*common, "--output", "neutral.ply"])
    entrypoint([*common, "--output", "jaw.obj", "--frame", "8"])  # jawOpen at its training maximum
    assert "vertices" in capsys.readouterr().out
    for name, radius in (("neutral.ply", NEUTRAL_RADIUS), ("jaw.obj", GROWN_RADIUS)):
        mesh = trimesh.load(tiny_avatar.root / name, process=False)
        radii = np.linalg.norm(mesh.vertices, axis=1) / HEAD_RADIUS_M  # workspace metres → scene units
        assert len(mesh.faces) > 100
        assert np.median(radii) == pytest.approx(radius, abs=0.05)
        assert shared_edge_fraction(Mesh(mesh.vertices, mesh.faces)) > 0.99
    # Far from the head there is nothing to mesh.
    corner = [str(0.8 * HEAD_RADIUS_M)] * 3
    with pytest.raises(SystemExit):
        entrypoint([*common, "--output", "corner.ply", "--box-min", *corner, "--box-max", *[str(HEAD_RADIUS_M)] * 3])
    assert "no surface at σ = 20" in " ".join(capsys.readouterr().err.split())
