"""The known-warning filters: a third-party deprecation is silenced, the same one raised from nerfblend_ns is not."""

import sys
import warnings

import pytest
import torch

from nerfblend_ns.known_warnings import KNOWN_WARNINGS, silence_known_warnings


def warnings_raised_from(module: str, code: str) -> list:
    """The warnings that `code` raises when run as module `module` under the filters installed here."""
    with warnings.catch_warnings(record=True) as caught:
        exec(code, {"__name__": module, "torch": torch})
    return [str(warning.message) for warning in caught]


@pytest.fixture
def filters(monkeypatch):
    """Every warning shown (pytest's own filters set aside), then the known ones silenced."""
    monkeypatch.setattr(sys, "warnoptions", [])
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("always")
        silence_known_warnings()
        yield


# nerfstudio's activations module calls torch's deprecated decorator; torch attributes the FutureWarning to the caller.
DEPRECATED_DECORATOR = "torch.cuda.amp.custom_fwd(cast_inputs=torch.float32)"


def test_a_known_third_party_deprecation_is_silenced(filters):
    assert warnings_raised_from("nerfstudio.field_components.activations", DEPRECATED_DECORATOR) == []
    assert warnings_raised_from("nerfstudio.engine.trainer", "torch.cuda.amp.GradScaler(enabled=False)") == []


def test_the_same_deprecation_raised_from_nerfblend_shows(filters):
    (message,) = warnings_raised_from("nerfblend_ns.models.example", DEPRECATED_DECORATOR)
    assert "torch.cuda.amp.custom_fwd" in message


def test_other_warnings_from_third_party_modules_show(filters):
    shown = warnings_raised_from("nerfstudio.engine.trainer", "import warnings; warnings.warn('x', FutureWarning)")
    assert shown == ["x"]
    # The known message in another category is not the known warning.
    code = "import warnings; warnings.warn('`torch.cuda.amp.custom_fwd(args...)` is deprecated', UserWarning)"
    assert len(warnings_raised_from("nerfstudio.field_components.activations", code)) == 1


def test_filters_name_a_category_message_and_module_never_our_package():
    for known in KNOWN_WARNINGS:
        assert issubclass(known.category, Warning) and known.message and known.module
        assert not known.module.startswith("nerfblend")


def test_filters_chosen_by_the_user_are_left_alone(monkeypatch):
    monkeypatch.setattr(sys, "warnoptions", ["error"])
    with warnings.catch_warnings():
        before = list(warnings.filters)
        silence_known_warnings()
        assert warnings.filters == before
