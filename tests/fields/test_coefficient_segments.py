"""Coefficient segments: the pieces sum to the coefficient, one segment is the paper's blend, and more bend the
blend at the knots, which represents a value that rises and falls again as one coefficient grows."""

import pytest
import torch
from torch.testing import assert_close

from nerfblend_ns.fields.coefficient_segments import CoefficientSegments
from nerfblend_ns.fields.decoder_mlps import DecoderConfig
from nerfblend_ns.fields.nerfblend_field import BlendedHashGridConfig, NerfBlendField

GRID = BlendedHashGridConfig(num_levels=2, log2_hashmap_size=6, max_resolution=16, init_scale=0.5, implementation="torch")
DECODER = DecoderConfig(hidden_dim=16, num_layers=2, geometry_features=8)
AABB = torch.tensor([[-1.0] * 3, [1.0] * 3])


def test_knots_cut_each_training_range_into_equal_pieces():
    segments = CoefficientSegments(torch.tensor([0.0, -1.0]), torch.tensor([1.0, 2.0]), 3)
    assert_close(segments.knots, torch.tensor([[1 / 3, 2 / 3], [0.0, 1.0]]))
    assert segments.num_weights == 6


def test_pieces_sum_to_the_coefficient_also_outside_the_range():
    segments = CoefficientSegments(torch.tensor([0.0, -1.0]), torch.tensor([1.0, 2.0]), 3)
    coefficients = torch.tensor([[-0.5, 2.5], [0.5, 0.0], [0.9, 1.5], [1.7, -3.0]])  # [4, 2]
    pieces = segments(coefficients).view(4, 2, 3)
    assert_close(pieces.sum(-1), coefficients)
    # Coefficient 0 at 0.5: its first segment [0, 1/3] is full, the second half full, the third untouched.
    assert_close(pieces[1, 0], torch.tensor([1 / 3, 1 / 6, 0.0]))
    # Below the range only the first piece moves, above it only the last.
    assert_close(pieces[0, 0], torch.tensor([-0.5, 0.0, 0.0]))
    assert_close(pieces[3, 0], torch.tensor([1 / 3, 1 / 3, 1.7 - 2 / 3]))


def test_one_segment_is_the_papers_blend():
    torch.manual_seed(0)
    field = NerfBlendField(AABB, CoefficientSegments(torch.zeros(3), torch.ones(3), 1), GRID, DECODER)
    coefficients = torch.rand(4, 3) * 2 - 0.5  # [4, 3]
    tables = field.encoding.tables  # [4, P, F]
    expected = tables[0] + torch.einsum("bk,kpf->bpf", coefficients, tables[1:])
    assert field.encoding.tables.shape[0] == 4
    assert_close(field.blend(coefficients), expected)


def test_the_blend_is_linear_within_a_segment_and_bends_at_its_knots():
    torch.manual_seed(0)
    field = NerfBlendField(AABB, CoefficientSegments(torch.zeros(1), torch.ones(1), 2), GRID, DECODER)
    assert field.encoding.tables.shape[0] == 3

    def table(w: float) -> torch.Tensor:
        return field.blend(torch.tensor([[w]])).detach()[0]

    assert_close(table(0.25), (table(0.0) + table(0.5)) / 2)
    assert_close(table(0.75), (table(0.5) + table(1.0)) / 2)
    bend = table(0.5) - (table(0.0) + table(1.0)) / 2
    assert bend.abs().max() > 0.1  # two independent slopes: the knot's table is not the mean of the ends


def _least_squares_error(segments: int) -> float:
    """The residual of the best blend of one table entry through samples of a bump: 0 at w = 0 and 1, 1 at 0.5."""
    coefficients = torch.linspace(0.0, 1.0, 21)[:, None]  # [21, 1]
    target = 1.0 - (2.0 * coefficients[:, 0] - 1.0).abs()  # [21]
    weights = CoefficientSegments(torch.zeros(1), torch.ones(1), segments)(coefficients)  # [21, S]
    design = torch.cat((torch.ones(21, 1), weights), dim=1)  # the neutral table, then the bases
    solution = torch.linalg.lstsq(design.double(), target.double()[:, None]).solution
    return float((design.double() @ solution - target.double()[:, None]).abs().max())


def test_a_value_that_rises_and_falls_needs_a_knot():
    """A brow passing over a forehead point: skin, brow, skin again as one coefficient grows."""
    assert _least_squares_error(1) > 0.4
    assert _least_squares_error(2) < 1e-6


def test_gradients_reach_each_segment_only_where_its_coefficient_crosses_it():
    field = NerfBlendField(AABB, CoefficientSegments(torch.zeros(1), torch.ones(1), 2), GRID, DECODER)
    field.blend(torch.tensor([[0.3]])).sum().backward()
    grad = field.encoding.tables.grad.abs().flatten(1).amax(1)  # [3]: neutral, first half, second half
    assert grad[0] > 0 and grad[1] > 0
    assert grad[2] == 0


def test_checkpoints_of_the_papers_blend_load_without_knots():
    field = NerfBlendField(AABB, CoefficientSegments.linear(2), GRID, DECODER)
    state = {key: value for key, value in field.state_dict().items() if key != "segments.knots"}
    field.load_state_dict(state)
    segmented = NerfBlendField(AABB, CoefficientSegments(torch.zeros(2), torch.ones(2), 2), GRID, DECODER)
    state = {key: value for key, value in segmented.state_dict().items() if key != "segments.knots"}
    with pytest.raises(RuntimeError, match="segments.knots"):
        segmented.load_state_dict(state)


@pytest.mark.parametrize("segments", [0, -1])
def test_fewer_than_one_segment_is_refused(segments):
    with pytest.raises(ValueError, match="at least 1"):
        CoefficientSegments(torch.zeros(2), torch.ones(2), segments)
