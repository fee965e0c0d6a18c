"""Every nerfblend command refuses settings out of range in one line, before it loads anything."""

import pytest

from nerfblend_ns.commands import export_mesh, render

NO_RUN = "no/such/config.yml"  # never opened: the settings are refused first


@pytest.mark.parametrize(
    "entrypoint, args, message",
    [
        (render.entrypoint, ["compare", "--downscale", "0"], "--downscale 0: must be between 1 and 64"),
        (render.entrypoint, ["compare", "--downscale", "-2"], "--downscale -2: must be between 1 and 64"),
        (render.entrypoint, ["bases", "--downscale", "100000"], "--downscale 100000: must be between 1 and 64"),
        (render.entrypoint, ["edit", "--fps", "nan"], "--fps nan: must be a finite number"),
        (render.entrypoint, ["edit", "--fps", "0"], "--fps 0.0: must be between 0.001 and 1000"),
        (render.entrypoint, ["orbit", "--yaw-degrees", "inf"], "--yaw-degrees inf: must be a finite number"),
        (render.entrypoint, ["orbit", "--num-frames", "0"], "--num-frames 0: must be between 1 and 100000"),
        (render.entrypoint, ["reenact", "--driving", "d", "--frame-stride", "0"], "--frame-stride 0: must be between 1 and inf"),
        (render.entrypoint, ["reenact", "--driving", "d", "--max-frames", "-1"], "--max-frames -1: must be between 1"),
        (render.entrypoint, ["bases", "--columns", "-1"], "--columns -1: must be between 0 and inf"),
        (export_mesh.entrypoint, ["--resolution", "0"], "--resolution 0: must be between 2 and 1024"),
        (export_mesh.entrypoint, ["--resolution", "100000"], "--resolution 100000: must be between 2 and 1024"),
        (export_mesh.entrypoint, ["--threshold", "nan"], "--threshold nan: must be a finite number"),
        (export_mesh.entrypoint, ["--box-min", "0", "nan", "0"], "--box-min 0.0 nan 0.0: every value must be a finite"),
        (export_mesh.entrypoint, ["--chunk", "0"], "--chunk 0: must be between 1 and inf"),
    ],
)
def test_a_setting_out_of_range_is_one_line_and_exit_status_2(entrypoint, args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        entrypoint([*args, "--load-config", NO_RUN])
    assert exit_info.value.code == 2
    error = " ".join(capsys.readouterr().err.split())
    assert error.startswith("error: ") and message in error
