import math

import pytest
import torch
from torch.func import functional_call
from torch.testing import assert_close

from nerfblend_ns.encodings import BlendedHashEncoding, corner_indices_and_weights, make_layout

# Two dense levels (res 4 and 8 -> 125 and 729 vertices) and two hashed ones (res 16, 32).
SMALL = dict(num_levels=4, features_per_level=2, log2_hashmap_size=10, base_resolution=4, max_resolution=32)


def _encoding(num_bases: int, dtype=torch.float32, **config) -> BlendedHashEncoding:
    encoding = BlendedHashEncoding(num_bases, **(config or SMALL)).to(dtype)
    with torch.no_grad():
        # Unit-scale values so that mismatches are not hidden by the 1e-4 initialisation.
        encoding.tables.normal_()
    return encoding


def _unit_points(n: int, dtype=torch.float32) -> torch.Tensor:
    return torch.rand(n, 3, dtype=dtype)


def test_paper_layout():
    layout = make_layout(num_levels=16, log2_hashmap_size=14, base_resolution=16, max_resolution=1024)
    assert layout.dense == (True, True) + (False,) * 14
    assert layout.level_sizes == (17**3, 23**3) + (2**14,) * 14
    assert layout.resolutions[0] == 16 and layout.resolutions[1] == 22 and layout.resolutions[-1] == 1024
    assert layout.num_entries == 4913 + 12167 + 14 * 16384 == 246_456
    assert layout.offsets == tuple(sum(layout.level_sizes[:level]) for level in range(16))
    encoding = BlendedHashEncoding(num_bases=2)
    assert encoding.tables.shape == (2, 246_456, 4) and encoding.tables.dtype == torch.float32
    assert encoding.output_dim == 64
    assert encoding.tables.abs().max() <= 1e-4


def test_blended_lookup_is_blend_of_basis_lookups():
    torch.manual_seed(0)
    num_bases, num_frames, n = 6, 3, 500
    encoding = _encoding(num_bases)
    positions = _unit_points(n)
    frame_index = torch.randint(0, num_frames, (n,))
    weights = torch.stack(
        (torch.zeros(num_bases - 1), 5 * torch.randn(num_bases - 1), torch.linspace(-3, 1, num_bases - 1))
    )  # [B, K]
    output_grad = torch.randn(n, encoding.output_dim)

    blended = encoding(positions, weights, frame_index)
    (blended * output_grad).sum().backward()
    blended_table_grad = encoding.tables.grad.clone()
    encoding.tables.grad = None

    def basis_lookup(basis: int) -> torch.Tensor:
        return encoding.lookup(encoding.tables, positions, torch.full((n,), basis))

    coefficients = torch.cat((torch.ones(num_frames, 1), weights), dim=1)[frame_index]  # [N, K+1]
    reference = sum(coefficients[:, basis, None] * basis_lookup(basis) for basis in range(num_bases))
    (reference * output_grad).sum().backward()

    assert_close(blended, reference, rtol=1e-5, atol=1e-5)
    assert_close(blended_table_grad, encoding.tables.grad, rtol=1e-5, atol=1e-5)
    assert blended_table_grad.abs().sum(dim=(1, 2)).min() > 0


def test_gradcheck_tables_and_weights():
    torch.manual_seed(0)
    # Level 0: 3^3 = 27 dense rows; level 1: 5^3 vertices hashed into 32 rows.
    config = dict(num_levels=2, features_per_level=2, log2_hashmap_size=5, base_resolution=2, max_resolution=4)
    encoding = _encoding(3, torch.float64, **config)
    assert encoding.layout.dense == (True, False)
    positions = _unit_points(4, torch.float64)
    frame_index = torch.tensor([0, 1, 1, 0])
    tables = encoding.tables.detach().clone().requires_grad_()
    weights = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)

    def encode(tables: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return functional_call(encoding, {"tables": tables}, (positions, weights, frame_index))

    assert torch.autograd.gradcheck(encode, (tables, weights))


def _dense_vertices(layout, level: int) -> torch.Tensor:
    """Vertex coordinates [V, 3] of a dense level in its row order (x fastest, then y, z)."""
    axis = torch.arange(layout.resolutions[level] + 1, dtype=torch.float64) / layout.resolutions[level]
    z, y, x = torch.meshgrid(axis, axis, axis, indexing="ij")
    return torch.stack((x, y, z), dim=-1).reshape(-1, 3)


def test_dense_levels_reproduce_linear_and_trilinear_fields():
    torch.manual_seed(0)
    config = dict(num_levels=2, features_per_level=2, log2_hashmap_size=10, base_resolution=4, max_resolution=8)
    encoding = _encoding(1, torch.float64, **config)
    layout = encoding.layout
    assert layout.dense == (True, True)
    slopes = torch.randn(2, 3, dtype=torch.float64)
    biases = [-0.25, 0.25]
    with torch.no_grad():
        for level in range(2):
            rows = slice(layout.offsets[level], layout.offsets[level] + layout.level_sizes[level])
            vertices = _dense_vertices(layout, level)
            encoding.tables[0, rows, 0] = vertices @ slopes[level] + biases[level]
            # x*y*z is trilinear too, so it is interpolated exactly inside every cell.
            encoding.tables[0, rows, 1] = vertices.prod(dim=1)

    positions = torch.cat((_unit_points(200, torch.float64), torch.eye(3, dtype=torch.float64), torch.ones(1, 3)))
    no_expression = torch.zeros(1, 0, dtype=torch.float64)
    output = encoding(positions, no_expression, torch.zeros(len(positions), dtype=torch.long)).view(-1, 2, 2)
    for level in range(2):
        assert_close(output[:, level, 0], positions @ slopes[level] + biases[level])
        assert_close(output[:, level, 1], positions.prod(dim=1))


def _reference_corner_rows(layout, point: list[float]) -> list[list[int]]:
    """instant-ngp indexing with Python integers and explicit uint32 arithmetic."""
    primes = (1, 2654435761, 805459861)
    rows = []
    for level, resolution in enumerate(layout.resolutions):
        cell = [min(math.floor(p * resolution), resolution - 1) for p in point]
        level_rows = []
        for corner in range(8):
            vertex = [cell[axis] + ((corner >> (2 - axis)) & 1) for axis in range(3)]
            if layout.dense[level]:
                local = vertex[0] + (resolution + 1) * (vertex[1] + (resolution + 1) * vertex[2])
            else:
                mixed = 0
                for axis in range(3):
                    mixed ^= (vertex[axis] * primes[axis]) % 2**32
                local = mixed % layout.level_sizes[level]
            level_rows.append(layout.offsets[level] + local)
        rows.append(level_rows)
    return rows


def test_indices_match_reference_hash():
    layout = make_layout()
    points = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.123, 0.456, 0.789], [0.9999, 0.5, 0.0314], [0.25, 0.75, 0.6]]
    indices, weights = corner_indices_and_weights(layout, torch.tensor(points, dtype=torch.float64))
    expected = torch.tensor([_reference_corner_rows(layout, point) for point in points])
    assert indices.dtype == torch.int32 and torch.equal(indices.long(), expected)
    assert_close(weights.sum(dim=-1), torch.ones(len(points), layout.num_levels, dtype=torch.float64))
    # Worked by hand: vertex (1, 1, 1) of level 2 hashes to 1 ^ 2654435761 ^ 805459861
    # = 2922720805, mod 2^14 = 11813, after the 17,080 rows of the two dense levels.
    assert indices[0, 2, 7] == 17080 + 11813


def test_basis_features_match_forward():
    torch.manual_seed(0)
    num_bases, n = 5, 300
    encoding = _encoding(num_bases)
    positions = _unit_points(n)
    weights = 2 * torch.randn(3, num_bases - 1)
    frame_index = torch.randint(0, 3, (n,))

    basis = encoding.basis_features(positions)  # [K+1, N, L*F]
    assert basis.shape == (num_bases, n, encoding.output_dim)
    for frame in range(3):
        expected = basis[0] + torch.einsum("k,knd->nd", weights[frame], basis[1:])
        actual = encoding(positions, weights[frame : frame + 1], torch.zeros(n, dtype=torch.long))
        assert_close(actual, expected, rtol=1e-5, atol=1e-5)
        assert_close(encoding(positions, weights, frame_index)[frame_index == frame], expected[frame_index == frame])


def test_points_outside_unit_cube_encode_to_zero():
    torch.manual_seed(0)
    encoding = _encoding(3)
    outside = torch.tensor([[-1e-3, 0.5, 0.5], [0.5, 1.001, 0.5], [0.2, 0.3, 7.0], [-2.0, -2.0, -2.0]])
    boundary = torch.tensor([[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]])
    positions = torch.cat((outside, boundary))
    weights = torch.randn(1, 2)
    frame_index = torch.zeros(len(positions), dtype=torch.long)

    output = encoding(positions, weights, frame_index)
    assert torch.all(output[:4] == 0)
    assert torch.all(output[4:].abs().sum(dim=1) > 0)
    assert torch.all(encoding.basis_features(outside) == 0)

    encoding(outside, weights, frame_index[:4]).sum().backward()
    assert torch.all(encoding.tables.grad == 0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    encoding = _encoding(4)
    positions = _unit_points(1000)
    weights = torch.randn(2, 3)
    frame_index = torch.randint(0, 2, (1000,))
    expected = encoding(positions, weights, frame_index)
    actual = encoding.cuda()(positions.cuda(), weights.cuda(), frame_index.cuda())
    assert_close(actual.cpu(), expected, rtol=1e-5, atol=1e-5)
