"""Coefficient edits: parsed by name, applied in order; non-finite or absurd results are refused."""

import pytest
import torch

from nerfblend_ns.avatar.coefficient_edits import EditError, parse_edits

NAMES = ["jawOpen", "eyeBlinkLeft", "mouthSmile"]


def test_values_factors_and_ramps_apply():
    edits = parse_edits(NAMES, values=["jawOpen=0.8"], factors=["eyeBlinkLeft=2"], ramps=["mouthSmile:0:1"])
    edited = edits.apply(torch.tensor([0.1, 0.3, 0.5]), progress=0.25)
    assert edited.tolist() == pytest.approx([0.8, 0.6, 0.25])


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "NaN", " infinity"])
@pytest.mark.parametrize("kind", ["values", "factors", "ramps"])
def test_non_finite_numbers_are_refused(kind, text):
    edit = f"jawOpen:0:{text}" if kind == "ramps" else f"jawOpen={text}"
    with pytest.raises(EditError, match=f"'{edit}': '{text.strip()}' is not a finite number"):
        parse_edits(NAMES, **{kind: [edit]})


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"factors": ["jawOpen=1e308"]}, "'jawOpen=1e308' makes the coefficient inf, beyond ±1000"),
        ({"factors": ["jawOpen=1e4", "mouthSmile=1e5"]}, "'jawOpen=1e4' makes the coefficient 5e\\+03"),
        ({"values": ["eyeBlinkLeft=-1e4"]}, "'eyeBlinkLeft=-1e4' makes the coefficient -1e\\+04"),
        ({"ramps": ["mouthSmile:0:5000"]}, "'mouthSmile:0:5000' makes the coefficient 5e\\+03"),
    ],
)
def test_an_edited_coefficient_beyond_the_bound_is_refused(edit, message):
    edits = parse_edits(NAMES, **edit)
    with pytest.raises(EditError, match=message):
        edits.apply(torch.tensor([0.5, 0.5, 0.5]), progress=1.0)


def test_an_overflowing_product_is_refused_not_rendered():
    edits = parse_edits(NAMES, factors=["jawOpen=1e38"])
    with pytest.raises(EditError, match="makes the coefficient inf"):
        edits.apply(torch.tensor([10.0, 0.0, 0.0]), progress=0.0)  # 1e39 overflows float32
