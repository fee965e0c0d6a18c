"""The launcher every command starts through: the known warnings silenced, then the command run."""

import importlib
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

from nerfblend_ns.known_warnings import KNOWN_WARNINGS
from nerfblend_ns.commands import launcher

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_every_console_script_starts_through_the_launcher():
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    assert scripts
    for name, target in scripts.items():
        module, function = target.split(":")
        assert module == launcher.__name__, f"{name} bypasses the launcher"
        assert function.replace("_", "-") in name and callable(getattr(launcher, function))


@pytest.mark.parametrize("module", ["nerfblend_ns.synthetic.cli", "nerfblend_ns.commands.process_video",
                                    "nerfblend_ns.commands.render", "nerfblend_ns.commands.export_mesh"])
def test_each_started_module_has_an_entrypoint(module):
    assert callable(importlib.import_module(module).entrypoint)


def test_a_command_runs_with_the_filters_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "warnoptions", [])
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # the launcher sets the command's
    workspace = tmp_path / "ws"
    with warnings.catch_warnings():
        warnings.resetwarnings()
        command = ["nerfblend-synthetic", "--output-dir", str(workspace), "--num-frames", "2", "--resolution", "16"]
        launcher.run_command(command)
        installed = {(f[1].pattern, f[2], f[3].pattern) for f in warnings.filters if f[0] == "ignore" and f[1] and f[3]}
    assert sys.argv[0] == "nerfblend-synthetic"
    assert (workspace / "transforms.json").is_file()
    assert {(known.message, known.category, known.module) for known in KNOWN_WARNINGS} <= installed


def test_an_unknown_command_is_one_line():
    with pytest.raises(SystemExit, match="ns-nothing: no such command"):
        launcher.run_command(["ns-nothing"])
    with pytest.raises(SystemExit, match="usage"):
        launcher.run_command([])


def test_own_commands_are_the_console_scripts():
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    assert {name: getattr(launcher, target.split(":")[1]) for name, target in scripts.items()} == launcher.OWN_COMMANDS


def test_a_stale_egg_info_on_the_path_does_not_redirect_own_commands(tmp_path, monkeypatch):
    # What an older editable install leaves in a checkout: metadata naming a module that no longer exists.
    stale = tmp_path / "nerfblend_ns.egg-info"
    stale.mkdir()
    (stale / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: nerfblend_ns\nVersion: 0.0.1\n")
    (stale / "entry_points.txt").write_text("[console_scripts]\nnerfblend-synthetic = nerfblend_ns.gone.cli:entrypoint\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    workspace = tmp_path / "ws"
    launcher.run_command(["nerfblend-synthetic", "--output-dir", str(workspace), "--num-frames", "2", "--resolution", "16"])
    assert (workspace / "transforms.json").is_file()
