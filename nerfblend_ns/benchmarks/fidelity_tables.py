"""Tables of a fidelity.json (scripts/benchmark_fidelity.py): its scores per workspace and checkpoint,
and the difference of two runs' scores, which is what a fidelity change is judged by."""

from typing import Any, Dict, List, Optional, Tuple

SCORE_PARTS = ("test", "train", "gap")
"""Parts of a checkpoint whose numbers are scores (per-frame lists and counts are not)."""
COUNT_KEYS = ("frames", "face_frames")

_COLUMNS: List[Tuple[str, str, str]] = [
    ("steps/s", "steps_per_s", "{:.1f}"),
    ("PSNR", "test.full.psnr", "{:.2f}"),
    ("SSIM", "test.full.ssim", "{:.4f}"),
    ("LPIPS", "test.full.lpips", "{:.4f}"),
    ("median", "test.full.median", "{:.2f}"),
    ("p10", "test.full.p10", "{:.2f}"),
    ("min", "test.full.min", "{:.2f}"),
    ("face PSNR", "test.face.psnr", "{:.2f}"),
    ("face SSIM", "test.face.ssim", "{:.4f}"),
    ("face LPIPS", "test.face.lpips", "{:.4f}"),
    ("face p10", "test.face.p10", "{:.2f}"),
    ("train PSNR", "train.full.psnr", "{:.2f}"),
    ("train face", "train.face.psnr", "{:.2f}"),
    ("gap", "gap.full.psnr", "{:+.2f}"),
    ("face gap", "gap.face.psnr", "{:+.2f}"),
    ("outline err", "test.silhouette.error_share", "{:.0%}"),
    ("ρ coef", "test.novelty_correlation.coefficient", "{:+.2f}"),
    ("ρ pose", "test.novelty_correlation.rotation", "{:+.2f}"),
    ("ρ mouth", "test.unexplained_motion_correlation.mouth", "{:+.2f}"),
    ("ρ brows", "test.unexplained_motion_correlation.brows", "{:+.2f}"),
    ("fps", "render_fps", "{:.1f}"),
]
"""Header, flat score name and format of each column of the run table."""


def flat_scores(checkpoint: Dict[str, Any]) -> Dict[str, float]:
    """Every score of a checkpoint under a dotted name (test.face.psnr, gap.full.ssim, steps_per_s, render_fps)."""
    scores = {key: float(checkpoint[key]) for key in ("steps_per_s", "render_fps") if checkpoint.get(key) is not None}
    for part in SCORE_PARTS:
        for region, values in checkpoint.get(part, {}).items():
            if isinstance(values, dict):
                scores.update({f"{part}.{region}.{name}": float(value) for name, value in values.items()})
    return scores


def _checkpoint_key(checkpoint: Dict[str, Any]) -> float:
    return float(checkpoint.get("target_minutes", checkpoint["minutes"]))


def _cell(scores: Dict[str, float], name: str, form: str) -> str:
    return form.format(scores[name]) if name in scores else "-"


def _render(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = lambda row: "  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def run_table(document: Dict[str, Any]) -> str:
    """One row per workspace and checkpoint: speed, test scores full and face, their spread, training-frame
    scores, the test − training gap and render frames/s."""
    header = ["workspace", "min", "steps", *(title for title, _, _ in _COLUMNS)]
    rows = []
    for run in document["runs"]:
        for checkpoint in run["checkpoints"]:
            scores = flat_scores(checkpoint)
            rows.append(
                [run["name"], f"{_checkpoint_key(checkpoint):g}", str(checkpoint["steps"])]
                + [_cell(scores, name, form) for _, name, form in _COLUMNS]
            )
    return _render(header, rows)


def _runs_by_name(document: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {run["name"]: run for run in document["runs"]}


def _paired_runs(before: Dict[str, Any], after: Dict[str, Any]) -> List[Tuple[str, Dict[str, Any], Dict[str, Any]]]:
    """(label, run of A, run of B): workspaces matched by name; two documents of one workspace each and no name in
    common (one clip tracked two ways) pair their runs, labelled "A's name / B's name"."""
    runs_before, runs_after = _runs_by_name(before), _runs_by_name(after)
    if len(runs_before) == len(runs_after) == 1 and not set(runs_before) & set(runs_after):
        ((name_a, run_a),), ((name_b, run_b),) = runs_before.items(), runs_after.items()
        return [(f"{name_a} / {name_b}", run_a, run_b)]
    return [(name, run, runs_after[name]) for name, run in runs_before.items() if name in runs_after]


def comparison_rows(before: Dict[str, Any], after: Dict[str, Any]) -> List[Tuple[str, float, str, Optional[float], Optional[float]]]:
    """(workspace, checkpoint minutes, score, before, after) for every score of every workspace and checkpoint
    that both documents have (workspaces paired by `_paired_runs`, checkpoints by their requested minutes); a
    score only one side has comes with None on the other."""
    rows = []
    for name, run, run_after in _paired_runs(before, after):
        checkpoints_after = {_checkpoint_key(c): c for c in run_after["checkpoints"]}
        for checkpoint in run["checkpoints"]:
            minutes = _checkpoint_key(checkpoint)
            if minutes not in checkpoints_after:
                continue
            a, b = flat_scores(checkpoint), flat_scores(checkpoints_after[minutes])
            for score in sorted(set(a) | set(b)):
                rows.append((name, minutes, score, a.get(score), b.get(score)))
    return rows


def comparison_table(before: Dict[str, Any], after: Dict[str, Any]) -> str:
    """B − A per workspace, checkpoint and score; workspaces or checkpoints only one side has are named below."""
    format_value = lambda value: "-" if value is None else f"{value:.4f}"  # noqa: E731
    rows = [
        [name, f"{minutes:g}", score, format_value(a), format_value(b), "-" if a is None or b is None else f"{b - a:+.4f}"]
        for name, minutes, score, a, b in comparison_rows(before, after)
    ]
    table = _render(["workspace", "min", "score", "A", "B", "B − A"], rows)
    paired = {name for _, run, run_after in _paired_runs(before, after) for name in (run["name"], run_after["name"])}
    unmatched = sorted((set(_runs_by_name(before)) | set(_runs_by_name(after))) - paired)
    return table + (f"\nworkspaces in only one of the two: {', '.join(unmatched)}" if unmatched else "")
