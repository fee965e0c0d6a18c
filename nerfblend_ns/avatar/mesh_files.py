"""Writes a triangle mesh as binary PLY or Wavefront OBJ, chosen by the file's suffix."""

from pathlib import Path

import numpy as np

from nerfblend_ns.avatar.density_mesh import Mesh

SUFFIXES = (".ply", ".obj")


def _write_ply(mesh: Mesh, path: Path) -> None:
    header = (
        "ply\nformat binary_little_endian 1.0\n"
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
        np.savetxt(file, mesh.vertices, fmt="v %.6f %.6f %.6f")
        np.savetxt(file, mesh.faces + 1, fmt="f %d %d %d")  # OBJ indices start at 1


def write_mesh(mesh: Mesh, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: unknown mesh format '{suffix}', expected {' or '.join(SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    (_write_ply if suffix == ".ply" else _write_obj)(mesh, path)
