"""scripts/benchmark_mask_consistency.py on the synthetic head, whose masks are exact, and on a broken workspace."""

import json
import subprocess
import sys
from pathlib import Path

from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_mask_consistency.py"


def _run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=600)


def test_exact_masks_of_the_synthetic_head_stay_within_a_pixel_of_their_consensus(tmp_path):
    write_synthetic_workspace(SyntheticConfig(output_dir=tmp_path / "head", num_frames=24, resolution=64))
    result = _run(str(tmp_path / "head"), "--resolution", "64", "--output", str(tmp_path / "consistency.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads((tmp_path / "consistency.json").read_text())["workspaces"][str(tmp_path / "head")]
    assert scores["frames"] == 24
    # The skull and hair are rigid; only the jaw moves with the expressions.
    assert scores["upper_mean_abs_px"] < 0.6, scores
    assert "head: 24 frames" in result.stdout and "upper head" in result.stdout


def test_a_broken_workspace_is_one_line_naming_its_file(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "transforms.json").write_text("{not json")
    result = _run(str(tmp_path / "broken"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "broken/transforms.json: malformed json" in result.stderr
    assert _run(str(tmp_path / "head"), "--every-nth", "0").returncode == 2
