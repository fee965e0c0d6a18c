"""The render settings: one frozen value whose key holds every setting, in field order."""

import dataclasses

import pytest

from nerfblend_ns.rendering.render_settings import RenderSettings

SETTINGS = RenderSettings(
    step_size=0.01, near_plane=0.05, far_plane=9.0, alpha_threshold=0.01, early_stop_eps=1e-3, half_precision=True
)


def test_the_key_holds_every_setting_in_field_order():
    assert SETTINGS.key() == tuple(getattr(SETTINGS, f.name) for f in dataclasses.fields(RenderSettings))
    for field in dataclasses.fields(RenderSettings):
        other = dataclasses.replace(SETTINGS, **{field.name: not SETTINGS.half_precision if field.type is bool else 2.5})
        assert other.key() != SETTINGS.key(), field.name


def test_settings_cannot_change_once_made():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SETTINGS.step_size = 0.02
