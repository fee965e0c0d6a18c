"""Meshes replace only meshes nerfblend-export-mesh wrote: a user's file of the same name is kept."""

import numpy as np
import pytest

from nerfblend_ns.avatar.density_mesh import Mesh
from nerfblend_ns.avatar.mesh_files import write_mesh
from nerfblend_ns.avatar.owned_outputs import ForeignOutputError

TRIANGLE = Mesh(vertices=np.eye(3, dtype=np.float32), faces=np.array([[0, 1, 2]]))


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_a_mesh_of_its_own_is_replaced_another_file_is_kept(tmp_path, suffix):
    path = tmp_path / f"head{suffix}"
    write_mesh(TRIANGLE, path)
    first = path.read_bytes()
    write_mesh(TRIANGLE, path)
    assert path.read_bytes() == first and [p.name for p in tmp_path.iterdir()] == [path.name]
    scan = tmp_path / f"scan{suffix}"
    scan.write_bytes(b"ply\nformat ascii 1.0\nthe user's scan\n")
    with pytest.raises(ForeignOutputError, match=f"scan{suffix} exists and was not written by nerfblend"):
        write_mesh(TRIANGLE, scan)
    assert scan.read_bytes() == b"ply\nformat ascii 1.0\nthe user's scan\n"
