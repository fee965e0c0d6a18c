"""A driving workspace's coefficients in the driven model's order; residual coefficients only from the model's
own clip."""

from pathlib import Path

import pytest
import torch
from conftest import write_workspace

from nerfblend_ns.avatar.driving_sequence import read_driving_sequence
from nerfblend_ns.avatar.loading import AvatarError
from nerfblend_ns.residual_coefficients import is_residual_name, residual_name

FRAMES = 6


def _named(root: Path, names, edit_transforms) -> Path:
    write_workspace(root, num_frames=FRAMES, num_coefficients=len(names))
    edit_transforms(root, lambda meta: meta.update(expression_names=list(names)))
    return root


def _expected(column: int) -> torch.Tensor:
    """write_workspace's value of coefficient `column` in each frame (frame i: i + 100·column), video order."""
    return torch.arange(FRAMES, dtype=torch.float32) + 100 * column


def test_residual_names_are_the_trackers():
    assert is_residual_name(residual_name("mouth", 1)) and is_residual_name("mouthResidual12")
    assert residual_name("brows", 2) == "browResidual2" and is_residual_name("browResidual2")
    assert not is_residual_name("mouthResidual0") and not is_residual_name("mouthRollLower")


def test_coefficients_follow_the_models_order(tmp_path: Path, edit_transforms):
    driving = _named(tmp_path / "driving", ["jawOpen", "eyeBlinkLeft"], edit_transforms)
    sequence = read_driving_sequence(driving, ["eyeBlinkLeft", "jawOpen"])
    torch.testing.assert_close(sequence.coefficients, torch.stack([_expected(1), _expected(0)], dim=1))
    assert sequence.neutral_names == [] and len(sequence.cameras) == FRAMES


def test_another_clips_residual_coefficients_are_held_neutral(tmp_path: Path, edit_transforms):
    model = ["jawOpen", "mouthResidual1", "mouthResidual2"]
    with_residuals = _named(tmp_path / "with", ["jawOpen", "mouthResidual1", "mouthResidual2", "mouthResidual3"], edit_transforms)
    without = _named(tmp_path / "without", ["jawOpen"], edit_transforms)
    for driving in (with_residuals, without):
        sequence = read_driving_sequence(driving, model, training_workspace=tmp_path / "training")
        assert sequence.neutral_names == ["mouthResidual1", "mouthResidual2"]
        torch.testing.assert_close(sequence.coefficients[:, 0], _expected(0))
        assert not sequence.coefficients[:, 1:].any()


def test_the_models_own_clip_drives_its_residual_coefficients(tmp_path: Path, edit_transforms):
    names = ["jawOpen", "mouthResidual1"]
    own = _named(tmp_path / "own", names, edit_transforms)
    sequence = read_driving_sequence(own, names, training_workspace=tmp_path / "." / "own")
    assert sequence.neutral_names == []
    torch.testing.assert_close(sequence.coefficients, torch.stack([_expected(0), _expected(1)], dim=1))


def test_other_named_coefficients_are_refused(tmp_path: Path, edit_transforms):
    driving = _named(tmp_path / "driving", ["jawOpen", "mouthResidual1"], edit_transforms)
    with pytest.raises(AvatarError, match=r"driving: its 2 expression coefficients are not the model's 2 \(missing eyeBlinkLeft\)"):
        read_driving_sequence(driving, ["jawOpen", "eyeBlinkLeft"])
