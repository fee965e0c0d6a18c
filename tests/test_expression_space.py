"""The expression space: the neutral expression, clamping, rays' coefficients and a camera's resolution order."""

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras

from nerfblend_ns.expression_space import COEFFICIENTS_KEY, EXTRAPOLATE_KEY, ExpressionSpace

NAMES = ["jawOpen", "mouthSmile", "browRaise"]
MINIMUM = torch.tensor([0.0, -0.5, 0.2])
MAXIMUM = torch.tensor([1.0, 0.5, 0.6])
TRAIN = torch.tensor([[0.0, -0.5, 0.2], [1.0, 0.5, 0.6], [0.25, 0.1, 0.4]])


def _space(clamp: bool = True) -> ExpressionSpace:
    return ExpressionSpace(NAMES, TRAIN, MINIMUM, MAXIMUM, clamp)


def _camera(**metadata) -> Cameras:
    return Cameras(
        camera_to_worlds=torch.eye(4)[None, :3], fx=10.0, fy=10.0, cx=4.0, cy=4.0, width=8, height=8,
        metadata=metadata or None,
    )


def test_the_dataparsers_metadata_makes_a_space_and_a_missing_key_is_named():
    metadata = {"expression_names": NAMES, "expr_min": MINIMUM, "expr_max": MAXIMUM, "expressions": TRAIN}
    space = ExpressionSpace.from_metadata(metadata)
    assert space.names == NAMES and space.num_coefficients == 3 and torch.equal(space.training_coefficients, TRAIN)
    assert set(dict(space.named_buffers())) == {"training_coefficients", "minimum", "maximum"}
    with pytest.raises(ValueError, match="lacks expr_max"):
        ExpressionSpace.from_metadata({key: value for key, value in metadata.items() if key != "expr_max"})


def test_coefficients_are_clamped_to_the_training_range_unless_extrapolating():
    space = _space()
    wild = torch.tensor([[-3.0, 0.0, 7.0]])
    clamped = torch.tensor([[0.0, 0.0, 0.6]])
    assert torch.equal(space.clamp(wild), clamped) and torch.equal(space.as_rendered(wild), clamped)
    assert torch.equal(space.as_rendered(wild, extrapolate=True), wild)
    assert torch.equal(_space(clamp=False).as_rendered(wild), wild)
    assert torch.equal(_space(clamp=False).clamp(wild), clamped)  # the range itself holds either way
    assert space.neutral().tolist() == pytest.approx([0.0, 0.0, 0.2])  # browRaise never reached zero


def test_rays_carry_their_coefficients_in_their_metadata():
    space = _space()
    wild = torch.tensor([[-3.0, 0.0, 7.0]]).expand(4, 3)
    assert torch.equal(space.of_rays({COEFFICIENTS_KEY: wild}, 4), torch.tensor([[0.0, 0.0, 0.6]] * 4))
    assert torch.equal(space.of_rays({COEFFICIENTS_KEY: wild, EXTRAPOLATE_KEY: True}, 4), wild)
    with pytest.raises(ValueError, match="metadata"):
        space.of_rays({}, 4)


def test_resolution_order():
    space = _space()
    viewer = torch.tensor([0.9, 0.3, 0.5])
    own = torch.tensor([[0.1, 0.2, 0.3]])
    first = space.resolve(_camera(expr=own, cam_idx=1), viewer)
    assert first.coefficients.tolist() == own.tolist() and not first.extrapolate
    assert space.resolve(_camera(expr=own, **{EXTRAPOLATE_KEY: True})).extrapolate
    second = space.resolve(_camera(cam_idx=1), viewer)
    assert second.coefficients.tolist() == [viewer.tolist()] and second.extrapolate
    assert space.resolve(_camera(cam_idx=1)).coefficients.tolist() == [TRAIN[1].tolist()]
    for camera in (_camera(), _camera(cam_idx=7)):
        neutral = space.resolve(camera)
        assert neutral.coefficients[0].tolist() == pytest.approx([0.0, 0.0, 0.2]) and not neutral.extrapolate
    # What a camera renders with: clamped unless it asks to extrapolate; the viewer's as set.
    outside = torch.tensor([[2.0, 0.0, 0.0]])
    assert torch.equal(space.for_camera(_camera(expr=outside)), torch.tensor([[1.0, 0.0, 0.2]]))
    assert torch.equal(space.for_camera(_camera(expr=outside, **{EXTRAPOLATE_KEY: True})), outside)
    assert torch.equal(space.for_camera(_camera(), torch.tensor([2.0, 0.0, 0.0])), outside)
