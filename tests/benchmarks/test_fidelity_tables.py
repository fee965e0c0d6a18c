"""The run table and the B − A comparison of two fidelity.json documents."""

from nerfblend_ns.benchmarks.fidelity_tables import comparison_rows, comparison_table, flat_scores, run_table


def _checkpoint(minutes: float, psnr: float, face_psnr: float, fps: float = 90.0) -> dict:
    return {
        "minutes": minutes + 0.003,  # measured time runs a little past the requested one
        "target_minutes": minutes,
        "steps": int(2000 * minutes),
        "steps_per_s": 35.0,
        "render_fps": fps,
        "test": {"frames": 40, "full": {"psnr": psnr, "ssim": 0.9, "median": psnr + 0.5}, "face": {"psnr": face_psnr},
                 "silhouette": {"error_share": 0.72, "band_fraction": 0.03}, "per_frame_psnr": [psnr] * 40,
                 "novelty_correlation": {"coefficient": -0.6, "rotation": 0.03},
                 "unexplained_motion_correlation": {"brows": -0.63}},
        "train": {"full": {"psnr": psnr + 3.0}, "face": {"psnr": face_psnr + 4.0}},
        "gap": {"full": {"psnr": -3.0}, "face": {"psnr": -4.0}},
    }


def _document(runs: dict) -> dict:
    return {"runs": [{"name": name, "checkpoints": checkpoints} for name, checkpoints in runs.items()]}


def test_flat_scores_name_every_score_and_leave_out_lists_and_counts():
    scores = flat_scores(_checkpoint(1, 20.0, 18.0))
    assert scores["test.full.psnr"] == 20.0 and scores["test.face.psnr"] == 18.0
    assert scores["gap.face.psnr"] == -4.0 and scores["train.full.psnr"] == 23.0
    assert scores["steps_per_s"] == 35.0 and scores["render_fps"] == 90.0
    assert scores["test.silhouette.error_share"] == 0.72
    assert not any("per_frame" in name or name.endswith("frames") for name in scores)


def test_comparison_is_b_minus_a_per_workspace_and_checkpoint():
    before = _document({"talking": [_checkpoint(1, 20.0, 18.0), _checkpoint(2, 21.0, 19.0)], "old_only": [_checkpoint(1, 1.0, 1.0)]})
    after = _document({"talking": [_checkpoint(2, 21.5, 18.0, fps=80.0), _checkpoint(1, 19.0, 18.5)], "new_only": [_checkpoint(1, 1.0, 1.0)]})
    rows = {(name, minutes, score): (a, b) for name, minutes, score, a, b in comparison_rows(before, after)}
    assert rows[("talking", 1.0, "test.full.psnr")] == (20.0, 19.0)
    assert rows[("talking", 2.0, "test.full.psnr")] == (21.0, 21.5)
    assert rows[("talking", 2.0, "render_fps")] == (90.0, 80.0)
    assert {name for name, _, _ in rows} == {"talking"}
    table = comparison_table(before, after)
    line = next(line for line in table.splitlines() if line.startswith("talking") and " 2 " in line and "test.full.psnr" in line)
    assert line.split()[-3:] == ["21.0000", "21.5000", "+0.5000"]
    assert "only one of the two: new_only, old_only" in table


def test_one_clip_tracked_two_ways_pairs_its_two_workspaces():
    before, after = _document({"address": [_checkpoint(2, 29.39, 29.30)]}), _document({"address_brow": [_checkpoint(2, 29.41, 29.67)]})
    rows = {(name, score): (a, b) for name, _, score, a, b in comparison_rows(before, after)}
    assert rows[("address / address_brow", "test.face.psnr")] == (29.30, 29.67)
    assert "only one of the two" not in comparison_table(before, after)
    # With more than one workspace a side, names alone pair them.
    two = _document({"address": [_checkpoint(2, 29.0, 29.0)], "talking": [_checkpoint(2, 23.0, 21.0)]})
    assert comparison_rows(two, after) == [] and "only one of the two: address, address_brow, talking" in comparison_table(two, after)


def test_a_score_only_one_side_has_shows_without_a_difference():
    before = _document({"ws": [_checkpoint(1, 20.0, 18.0)]})
    after_checkpoint = _checkpoint(1, 20.0, 18.0)
    del after_checkpoint["test"]["face"]
    rows = {score: (a, b) for _, _, score, a, b in comparison_rows(before, _document({"ws": [after_checkpoint]}))}
    assert rows["test.face.psnr"] == (18.0, None)
    table = comparison_table(before, _document({"ws": [after_checkpoint]}))
    assert next(line for line in table.splitlines() if "test.face.psnr" in line).split()[-3:] == ["18.0000", "-", "-"]


def test_run_table_has_a_row_per_workspace_and_checkpoint():
    table = run_table(_document({"talking": [_checkpoint(1, 20.0, 18.0), _checkpoint(2, 21.25, 19.0)]}))
    lines = table.splitlines()
    assert len(lines) == 4 and "face PSNR" in lines[0]
    cells = lines[3].split()
    assert cells[:3] == ["talking", "2", "4000"] and "21.25" in cells and "-3.00" in cells and cells[-1] == "90.0"
    assert "outline err" in lines[0] and cells[-6:-1] == ["72%", "-0.60", "+0.03", "-", "-0.63"]
