"""Writes a triangle mesh as binary PLY or Wavefront OBJ, chosen by the file's suffix."""

import os
from pathlib import Path

import numpy as np

from nerfblend_ns.avatar.density_mesh import Mesh
from nerfblend_ns.avatar.owned_outputs import partial_path, refuse_unless_ours

SUFFIXES = (".ply", ".obj")
MESH_MARK = "written by nerfblend-export-mesh"
"""A comment in the header of every mesh written here: an existing mesh with it may be replaced."""
_PLY_START = f"ply\nformat binary_little_endian 1.0\ncomment {MESH_MARK}\n"
_OBJ_START = f"# {MESH_MARK}\n"


def _our_mesh(path: Path) -> bool:
    with path.open("rb") as file:
        start = file.read(len(_PLY_START))
    return start.startswith(_PLY_START.encode("ascii")) or start.startswith(_OBJ_START.encode("ascii"))


def _write_ply(mesh: Mesh, path: Path) -> None:
    header = _PLY_START + (
        f"element vertex {len(mesh.vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(mesh.faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    faces = np.zeros(len(mesh.faces), dtype=[("count", "u1"), ("indices", "<i4", (3,))])
    faces["count"] = 3
    faces["indices"] = mesh.faces
    with path.open("wb") as file:
        file.write(header.encode("ascii"))
        file.write(mesh.vertices.astype("<f4").tobytes())
        file.write(faces.tobytes())


def _write_obj(mesh: Mesh, path: Path) -> None:
    with path.open("w") as file:
        file.write(_OBJ_START)
        np.savetxt(file, mesh.vertices, fmt="v %.6f %.6f %.6f")
        np.savetxt(file, mesh.faces + 1, fmt="f %d %d %d")  # OBJ indices start at 1


def write_mesh(mesh: Mesh, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: unknown mesh format '{suffix}', expected {' or '.join(SUFFIXES)}")
    refuse_unless_ours(path, _our_mesh, "--output")
    path.parent.mkdir(parents=True, exist_ok=True)
    (_write_ply if suffix == ".ply" else _write_obj)(mesh, partial_path(path))
    os.replace(partial_path(path), path)
