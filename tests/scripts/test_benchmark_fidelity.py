"""scripts/benchmark_fidelity.py: a tiny end-to-end run with nerfblend-small, --compare, and a broken workspace."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from nerfblend_ns.synthetic import SyntheticConfig, write_synthetic_workspace

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_fidelity.py"
SIZE = 32


def _run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_tiny_run_writes_every_score_a_picture_and_compares_with_itself(tmp_path):
    write_synthetic_workspace(SyntheticConfig(output_dir=tmp_path / "head", num_frames=16, resolution=SIZE))
    out = tmp_path / "out"
    result = _run(
        "--data", str(tmp_path / "head"), "--method", "nerfblend-small", "--minutes", "0.01", "0.02",
        "--train-frames", "3", "--picture-frames", "1", "--render-frames", "1", "--render-size", "24",
        "--pose-fit-steps", "2", "--output-dir", str(out),
    )
    assert result.returncode == 0, f"benchmark failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    document = json.loads((out / "fidelity.json").read_text())
    assert document["method"] == "nerfblend-small" and document["minutes"] == [0.01, 0.02]
    assert {"device", "git_revision", "code_digest", "lpips"} <= set(document)
    (run,) = document["runs"]
    assert run["name"] == "head" and run["face_region"] == "face-oval" and run["landmark_kind"] == "face-oval"
    assert run["frames"] == {"train": 14, "test": 2, "test_scored": 2, "train_scored": 3}
    novelty = run["test_novelty"]  # two frames: too few for a rank correlation, which is left out
    assert len(novelty["coefficient_distance"]) == len(novelty["rotation_distance_deg"]) == 2
    assert all(value >= 0 for values in novelty.values() for value in values)
    assert run["test_unexplained_motion_mm"] == {}  # the synthetic head's landmarks are its face oval only
    first, last = run["checkpoints"]
    assert [first["target_minutes"], last["target_minutes"]] == [0.01, 0.02] and first["steps"] < last["steps"]
    for checkpoint in run["checkpoints"]:
        test, train = checkpoint["test"], checkpoint["train"]
        assert {"psnr", "ssim", "l1", "mse", "median", "p10", "min"} <= set(test["full"])
        assert {"psnr", "ssim", "median", "p10", "min"} <= set(test["face"]) and test["face_frames"] == 2
        assert len(test["per_frame_psnr"]) == len(test["per_frame_face_psnr"]) == 2
        assert test["full"]["min"] == min(test["per_frame_psnr"]) and test["unexplained_motion_correlation"] == {}
        assert all(math.isfinite(value) for part in (test, train) for region in ("full", "face") for value in part[region].values())
        assert checkpoint["gap"]["face"]["psnr"] == pytest.approx(test["face"]["psnr"] - train["face"]["psnr"])
        assert 0.0 <= test["silhouette"]["error_share"] <= 1.0 and 0.0 < test["silhouette"]["band_fraction"] < 1.0
        fitted = checkpoint["test_fitted_poses"]  # scored apart from the tracked poses' "test"
        assert fitted["frames"] == 2 and len(fitted["per_frame_psnr"]) == 2 and math.isfinite(fitted["full"]["psnr"])
        assert checkpoint["steps_per_s"] > 0 and checkpoint["render_fps"] > 0 and checkpoint["render"]["size"] == 24
        assert list(checkpoint["occupancy"]) == ["occupied"] and 0 < checkpoint["occupancy"]["occupied"] <= 1
    assert run["picture_frame_indices"] == sorted(range(2), key=lambda i: last["test"]["per_frame_psnr"][i])
    assert Image.open(out / run["picture"]).size == (3 * SIZE, 2 * SIZE)
    # The training frames' picture: the worst of the three scored, then the median.
    train_psnrs, train_frames = last["train"]["per_frame_psnr"], last["train"]["frame_indices"]
    worst, median = sorted(range(3), key=lambda i: train_psnrs[i])[:2]
    assert run["training_picture_frame_indices"] == [train_frames[worst], train_frames[median]]
    assert Image.open(out / run["training_picture"]).size == (3 * SIZE, 2 * SIZE)
    assert "face PSNR" in result.stdout and "head" in result.stdout.splitlines()[-2]

    compared = _run("--compare", str(out / "fidelity.json"), str(out / "fidelity.json"))
    assert compared.returncode == 0, compared.stderr[-3000:]
    rows = [line.split() for line in compared.stdout.splitlines() if line.startswith("head ")]
    assert len(rows) > 20 and {row[-1] for row in rows} == {"+0.0000"}


@pytest.mark.slow
def test_variants_train_every_workspace_each_with_its_overrides_and_compare_with_the_first(tmp_path):
    write_synthetic_workspace(SyntheticConfig(output_dir=tmp_path / "head", num_frames=8, resolution=SIZE))
    out = tmp_path / "out"
    result = _run(
        "--data", str(tmp_path / "head"), "--method", "nerfblend-small", "--minutes", "99", "--max-steps", "3",
        "--train-frames", "2", "--picture-frames", "1", "--render-frames", "0", "--output-dir", str(out),
        "--override", "pipeline.model.basis_l1_weight", "0.5",
        "--variant", "base", "--variant", "dropout", "pipeline.model.coefficient_dropout", "0.2",
        "--variant", "both", "pipeline.model.coefficient_dropout", "0.1", "pipeline.model.basis_l1_weight", "0",
    )
    assert result.returncode == 0, f"benchmark failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    documents = {label: json.loads((out / label / "fidelity.json").read_text()) for label in ("base", "dropout", "both")}
    assert documents["base"]["overrides"] == {"max_num_iterations": 3, "pipeline.model.basis_l1_weight": 0.5}
    assert documents["dropout"]["overrides"] == {"max_num_iterations": 3, "pipeline.model.basis_l1_weight": 0.5, "pipeline.model.coefficient_dropout": 0.2}
    assert documents["both"]["overrides"] == {"max_num_iterations": 3, "pipeline.model.basis_l1_weight": 0, "pipeline.model.coefficient_dropout": 0.1}
    for label, document in documents.items():
        (run,) = document["runs"]
        assert document["variant"] == label and run["name"] == "head" and run["checkpoints"][-1]["steps"] == 3
        assert (out / label / run["picture"]).is_file()
    assert "A = base, B = dropout" in result.stdout and "A = base, B = both" in result.stdout


def test_a_variant_needs_a_folder_name_and_pairs_of_overrides(workspace, tmp_path):
    for variant, problem in ((["odd", "pipeline.model.coefficient_dropout"], "pairs of KEY VALUE"), (["../up"], "labels name folders")):
        result = _run("--data", str(workspace), "--output-dir", str(tmp_path / "out"), "--variant", *variant)
        assert result.returncode == 2 and problem in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_compare_prints_b_minus_a(tmp_path):
    def document(psnr: float) -> dict:
        checkpoint = {"minutes": 2.01, "target_minutes": 2, "steps": 4000, "test": {"full": {"psnr": psnr}, "face": {"psnr": psnr - 2}}}
        return {"runs": [{"name": "talking", "checkpoints": [checkpoint]}]}

    for name, psnr in (("a.json", 20.0), ("b.json", 20.75)):
        (tmp_path / name).write_text(json.dumps(document(psnr)))
    result = _run("--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split()[2]: line.split()[3:] for line in result.stdout.splitlines() if line.startswith("talking")}
    assert rows == {"test.face.psnr": ["18.0000", "18.7500", "+0.7500"], "test.full.psnr": ["20.0000", "20.7500", "+0.7500"]}


def test_a_broken_workspace_fails_before_any_training(workspace, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "transforms.json").write_text("{not json")
    result = _run("--data", str(workspace), str(tmp_path / "broken"), "--method", "nerfblend-small", "--output-dir", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "error: " in result.stderr and "broken/transforms.json: malformed json" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
