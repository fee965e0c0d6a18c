"""A run's config.yml is read without running anything it names, by our commands and by nerfstudio's."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nerfstudio.configs.method_configs import all_methods

import nerfblend_ns  # noqa: F401  (installs the guard, as nerfstudio's plugin discovery does)
from nerfblend_ns.run_config_yaml import ConfigError, RunConfigLoader, UnsafeConfigError, load_run_config

BIN = Path(sys.executable).parent
PAYLOADS = [
    "!!python/object/apply:os.system ['touch X']",
    "!!python/object/apply:subprocess.check_call [[touch, X]]",
    "!!python/object/new:os.system ['touch X']",
    "!!python/object/apply:exec [\"open('X', 'w')\"]",
    "!!python/name:os.system ''",
    "!!python/module:os ''",
    "!!python/object:subprocess.Popen {args: [touch, X]}",
    # Allowed modules, but not a config class, path or enum: a function is never called.
    "!!python/object/apply:nerfstudio.utils.eval_utils.eval_setup [X]",
    "!!python/object/apply:pathlib.Path [!!python/object/apply:os.system ['touch X']]",
    "!!python/object/apply:_operator.getitem [!!python/name:os.system '', 1]",
    # A config class whose fields try a dunder: no __setstate__, no __class__ swap.
    "!!python/object:nerfstudio.configs.base_config.MachineConfig {__class__: !!python/name:os.system ''}",
    "!!python/object:nerfstudio.configs.base_config.MachineConfig {__dict__: {}}",
]


def evil_config(tmp_path: Path, payload: str) -> Path:
    """The nerfblend-small config as ns-train writes it, with one more field holding `payload`."""
    path = tmp_path / "config.yml"
    path.write_text(yaml.dump(all_methods["nerfblend-small"]) + f"evil: {payload}\n")
    return path


@pytest.mark.parametrize("method", sorted(all_methods))
def test_every_registered_method_config_reads_back_equal(method):
    text = yaml.dump(all_methods[method])
    assert yaml.dump(yaml.load(text, Loader=RunConfigLoader)) == text


def test_a_trained_runs_config_reads_back(tmp_path):
    config = all_methods["nerfblend-small"]
    path = tmp_path / "config.yml"
    path.write_text(yaml.dump(config))
    loaded = load_run_config(path)
    assert loaded == config and loaded.pipeline.model.grid == config.pipeline.model.grid
    assert isinstance(loaded.output_dir, Path) and loaded.logging.local_writer.stats_to_track == config.logging.local_writer.stats_to_track


@pytest.mark.parametrize("payload", PAYLOADS)
def test_code_running_tags_are_refused(tmp_path, monkeypatch, payload):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeConfigError, match="refused !!python/"):
        load_run_config(evil_config(tmp_path, payload))
    assert not (tmp_path / "X").exists()


def test_nerfstudios_full_loader_is_guarded_once_the_plugin_is_imported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert yaml.Loader is RunConfigLoader
    with pytest.raises(UnsafeConfigError, match="config line 1: refused !!python/name:os.system"):
        yaml.load(f"evil: {PAYLOADS[0]}", Loader=yaml.Loader)
    assert not (tmp_path / "X").exists()
    assert yaml.load("a: [1, {b: 2.5}]", Loader=yaml.Loader) == {"a": [1, {"b": 2.5}]}


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ("nerfblend-render", "orbit", "--load-config"),
        ("nerfblend-export-mesh", "--load-config"),
        ("ns-eval", "--load-config"),
        ("ns-render", "dataset", "--load-config"),
        ("ns-viewer", "--load-config"),
    ],
)
def test_commands_refuse_the_payload_in_one_line(tmp_path, command):
    config = evil_config(tmp_path, PAYLOADS[0])
    result = subprocess.run([str(BIN / command[0]), *command[1:], str(config)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0 and not (tmp_path / "X").exists()
    assert "refused !!python/name:os.system" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        (yaml.dump(all_methods["nerfblend-small"]).replace("- Test PSNR", "- Bogus Event"), "'Bogus Event' is not a EventName"),
        ("a: " + "[" * 20000 + "]" * 20000, "nested too deeply"),
    ],
    ids=["unknown enum member", "deep nesting"],
)
def test_a_malformed_config_is_a_config_error(tmp_path, text, message):
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_run_config(path)


def _without_block(text: str, key: str) -> str:
    """`text` without the model field `key` (indented four spaces) and everything nested under it."""
    lines, kept, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith(f"    {key}:"):
            skipping = True
            continue
        if skipping and line.startswith("      "):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept) + "\n"


def test_a_run_saved_with_the_former_flat_model_fields_loads_into_the_nested_ones(tmp_path):
    text = yaml.dump(all_methods["nerfblend-small"])
    for key in ("occupancy", "renderer", "clamp_coefficients", "coefficient_noise"):
        text = _without_block(text, key)
    former = {
        "occupancy_resolution": "24", "occupancy_update_interval": "4", "expression_aware_occupancy": "false",
        "render_step_size": "0.03", "near_plane": "0.2", "render_step_scale": "3.0", "render_fused": "false",
        "alpha_threshold": "0.05", "clamp_expressions": "false", "expression_noise": "0.1",
    }
    flat = "".join(f"    {name}: {value}\n" for name, value in former.items())
    text = text.replace("    perceptual_loss: auto\n", "    perceptual_loss: auto\n" + flat)
    path = tmp_path / "config.yml"
    path.write_text(text)
    model = load_run_config(path).pipeline.model
    occupancy, renderer = model.occupancy, model.renderer
    assert (occupancy.resolution, occupancy.update_interval, occupancy.expression_aware) == (24, 4, False)
    assert (occupancy.training_step_size, occupancy.near_plane) == (0.03, 0.2)
    assert (renderer.step_scale, renderer.fused, renderer.alpha_threshold, renderer.cuda_graph) == (3.0, False, 0.05, True)
    assert (model.clamp_coefficients, model.coefficient_noise) == (False, 0.1)
    assert not any(name in vars(model) for name in former)
    assert not occupancy.visual_hull.enabled  # a field the run never saved takes its default
