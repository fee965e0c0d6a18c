"""Fidelity of a method on several tracked workspaces after fixed minutes of training (docs/benchmarks.md).

    python scripts/benchmark_fidelity.py --data WS [WS ...] --minutes 1 2 --output-dir DIR [--method nerfblend] [--override KEY VALUE]...
    python scripts/benchmark_fidelity.py --data WS [WS ...] --minutes 99 --max-steps N --output-dir DIR --variant base --variant LABEL KEY VALUE [KEY VALUE ...]...
    python scripts/benchmark_fidelity.py --compare A/fidelity.json B/fidelity.json

Per workspace: trains for the given minutes of wall time (evaluations excluded) and at each checkpoint
scores the test split (every --test-stride-th frame) and a fixed set of training frames: full-frame
PSNR/SSIM/LPIPS/L1/MSE under the evaluation protocol (docs/evaluation.md), PSNR/SSIM/LPIPS inside
the face region (the face oval of the frame's landmarks, which no head mask shapes), the per-frame PSNR with its median, 10th
percentile and minimum, the test − training gap, steps/s and rendering frames/s at 512², and the rank
correlation of the per-frame PSNR with each test frame's distance to the nearest training frame in
coefficients and in head rotation (which of the two the model fails to generalise over), and with the
motion of its lips and brows that its coefficients leave unexplained (the tracker's share). Writes
DIR/fidelity.json (rewritten at every checkpoint, so a run cut short keeps what it measured), a
picture per workspace of its 3 worst and 3 median test frames (ground truth | prediction | error) and
one of its scored training frames alike (what the model fits of frames it saw), and prints a table.
--compare prints B − A per workspace, checkpoint and score.

With --variant, every workspace is trained once per variant (a label and its own overrides on top of
--override), the variants of one workspace one after the other, each variant's results in
DIR/LABEL/fidelity.json; the end prints B − A of each variant against the first. On one GPU, runs side by
side in several processes hardly finish sooner in all than one after the other (docs/benchmarks.md); one
process also loads the method and compiles its kernels once.
"""

import argparse
import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

from nerfstudio.plugins.registry import discover_methods

from nerfblend_ns.benchmarks.error_picture import error_rows
from nerfblend_ns.benchmarks.fidelity_scores import (
    Lpips,
    face_region,
    face_region_kind,
    generalisation_gap,
    score_frames,
    summarize,
    worst_and_median,
)
from nerfblend_ns.benchmarks.fidelity_tables import comparison_table, run_table
from nerfblend_ns.benchmarks.frame_grid import write_rgb_png
from nerfblend_ns.benchmarks.frame_novelty import FrameNovelty, frame_novelty, rank_correlation
from nerfblend_ns.benchmarks.held_out_pose_fit import HeldOutPoseFitConfig
from nerfblend_ns.benchmarks.held_out_renders import evenly_spaced, render_dataset_frames
from nerfblend_ns.benchmarks.render_speed import measure_render, square_cameras
from nerfblend_ns.benchmarks.run_info import code_digest, device_name, git_dirty, git_revision
from nerfblend_ns.benchmarks.timed_training import TimedRun, build_trainer, parse_overrides, train_with_checkpoints, with_run_length
from nerfblend_ns.benchmarks.unexplained_motion import unexplained_motion_of_test_frames
from nerfblend_ns.benchmarks.variant_runs import release_device_memory
from nerfblend_ns.dataparsers.layouts import read_sequence
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError
from nerfblend_ns.expression_space import COEFFICIENTS_KEY
from nerfblend_ns.perceptual import load_lpips_vgg

RESULT_FILE = "fidelity.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--data", type=Path, nargs="+", help="tracked workspaces, benchmarked one after the other")
    action.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"), help="two fidelity.json files: print B − A")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2], help="checkpoint times (minutes of training)")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/fidelity"), help="where fidelity.json and the pictures go")
    parser.add_argument("--method", default="nerfblend", help="registered method name (nerfblend-small for a CPU run)")
    parser.add_argument("--override", nargs=2, action="append", default=[], metavar=("DOTTED.NAME", "VALUE"),
                        help="config override, e.g. pipeline.model.losses.patch_stage_start 3000")
    parser.add_argument("--variant", nargs="+", action="append", default=[], metavar="LABEL [KEY VALUE]",
                        help="a variant to train on every workspace: a label (its results' folder) and config "
                             "overrides of its own; repeat for more, the first is the baseline of the final comparison")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop a workspace's training after this many steps, also its --max-num-iterations")
    parser.add_argument("--test-stride", type=int, default=1, help="score every n-th test frame (1: all)")
    parser.add_argument("--train-frames", type=int, default=16, help="training frames, evenly spaced, scored at each checkpoint")
    parser.add_argument("--pose-fit-steps", type=int, default=0,
                        help="also score the test frames with poses fitted to them in this many steps, as a separate "
                             "score test_fitted_poses (0: tracked poses only; docs/evaluation.md)")
    parser.add_argument("--picture-frames", type=int, default=3, help="worst and as many median test frames in the picture")
    parser.add_argument("--render-frames", type=int, default=8, help="test cameras rendered to time the model (0: none)")
    parser.add_argument("--render-size", type=int, default=512, help="width and height of the timed frames")
    parser.add_argument("--runs-dir", type=Path, default=None, help="where the trainers write (default: output-dir/runs)")
    args = parser.parse_args()
    args.override = with_run_length(args.override, args.max_steps)
    if args.test_stride < 1:
        parser.error("--test-stride must be at least 1")
    labels = [variant[0] for variant in args.variant]
    for variant in args.variant:
        if len(variant) % 2 == 0:
            parser.error(f"--variant {' '.join(variant)}: give a label and then pairs of KEY VALUE")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", variant[0]) or labels.count(variant[0]) > 1:
            parser.error(f"--variant label {variant[0]!r}: labels name folders: letters, digits, '.', '_', '-', each label once")
    return args


def _variant_runs(args: argparse.Namespace) -> List[Tuple[str, argparse.Namespace]]:
    """(label, the arguments of its runs) per variant: its output folder and its overrides after --override's."""
    if not args.variant:
        return [("", args)]
    return [
        (label, argparse.Namespace(**{
            **vars(args), "output_dir": args.output_dir / label, "runs_dir": (args.runs_dir or args.output_dir / "runs") / label,
            "override": args.override + list(zip(pairs[::2], pairs[1::2])),
        }))
        for label, *pairs in args.variant
    ]


def _write_json_atomically(path: Path, document: Dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n")
    os.replace(temporary, path)


def _run_names(workspaces: List[Path]) -> List[str]:
    """The workspaces' folder names, numbered where two share one."""
    names = [path.resolve().name for path in workspaces]
    return [name if names.count(name) == 1 else f"{name}-{position}" for position, name in enumerate(names)]


def _benchmark_workspace(args: argparse.Namespace, data: Path, name: str, lpips: Lpips, document: Dict[str, Any]) -> None:
    config = discover_methods()[0][args.method]
    trainer = build_trainer(config, data, (args.runs_dir or args.output_dir / "runs") / name, document["overrides"])
    datamanager, model = trainer.pipeline.datamanager, trainer.pipeline.model
    lpips = None if lpips is None else lpips.to(model.device)
    test, train = datamanager.eval_dataset, datamanager.train_dataset
    test_indices = list(range(0, len(test), args.test_stride))
    train_indices = evenly_spaced(len(train), args.train_frames)
    render_cameras = square_cameras(test.cameras, evenly_spaced(len(test), args.render_frames), args.render_size) if args.render_frames else []
    run: Dict[str, Any] = {
        "name": name,
        "data": str(data),
        "face_region": face_region_kind(test),
        "landmark_kind": test.metadata["landmark_kind"],
        "frames": {"train": len(train), "test": len(test), "test_scored": len(test_indices), "train_scored": len(train_indices)},
        "test_stride": args.test_stride,
        "test_frame_files": [str(test.image_filenames[i]) for i in test_indices],
        "train_frame_indices": train_indices,
        "checkpoints": [],
    }
    novelty = _test_novelty(train, test, test_indices)
    run["test_novelty"] = {
        "coefficient_distance": novelty.coefficient_distance.tolist(),
        "rotation_distance_deg": novelty.rotation_distance_deg.tolist(),
    }
    parser_config = datamanager.dataparser.config
    unexplained = unexplained_motion_of_test_frames(
        read_sequence(parser_config.data, parser_config.layout),
        train.metadata["frame_indices"].tolist(),
        test.metadata["frame_indices"][test_indices].tolist(),
    )
    run["test_unexplained_motion_mm"] = {part: values.tolist() for part, values in unexplained.items()}
    document["runs"].append(run)
    print(f"== {name}: {len(train)} training and {len(test)} test frames, face region {run['face_region']}", flush=True)

    def score(_) -> Dict[str, Any]:
        test_scores = summarize(score_frames(model, test, test_indices, lpips), per_frame=True)
        test_scores["novelty_correlation"] = _novelty_correlation(test_scores["per_frame_psnr"], novelty)
        test_scores["unexplained_motion_correlation"] = _correlations(test_scores["per_frame_psnr"], unexplained)
        train_scores = summarize(score_frames(model, train, train_indices, lpips), per_frame=True)
        scores = {"test": test_scores, "train": train_scores, "gap": generalisation_gap(test_scores, train_scores)}
        scores["occupancy"] = model.occupancy_shares()
        if args.pose_fit_steps > 0:
            fit = HeldOutPoseFitConfig(steps=args.pose_fit_steps)
            scores["test_fitted_poses"] = summarize(score_frames(model, test, test_indices, lpips, fit), per_frame=True)
        if render_cameras:
            speed = measure_render(model, render_cameras, model.config.eval_num_rays_per_chunk)
            scores.update(render_fps=speed.fps, render=asdict(speed))
        return scores

    def save(timed: TimedRun) -> None:
        checkpoint = timed.checkpoints[-1]
        run["checkpoints"].append({
            "minutes": checkpoint.minutes,
            "target_minutes": sorted(args.minutes)[len(timed.checkpoints) - 1],
            "steps": checkpoint.steps,
            "steps_per_s": 1.0 / checkpoint.seconds_per_step,
            "peak_memory_gib": checkpoint.peak_memory_gib,
            **checkpoint.scores,
        })
        _write_json_atomically(args.output_dir / RESULT_FILE, document)
        face = checkpoint.scores["test"]["face"].get("psnr")
        print(f"{name}: {checkpoint.minutes:.2f} min, {checkpoint.steps} steps: test PSNR {checkpoint.scores['test']['full']['psnr']:.2f}"
              + (f", face {face:.2f}" if face is not None else "")
              + f", training frames {checkpoint.scores['train']['full']['psnr']:.2f}", flush=True)

    train_with_checkpoints(trainer, args.minutes, [], args.max_steps, on_checkpoint=save, score_checkpoint=score)
    if run["checkpoints"]:
        _write_picture(args, trainer, run)


def _test_novelty(train, test, test_indices: List[int]) -> FrameNovelty:
    """The scored test frames' distances to every training frame's coefficients and head rotation."""
    coefficients = lambda dataset: dataset.cameras.metadata[COEFFICIENTS_KEY].double().numpy()  # noqa: E731
    rotations = lambda dataset: dataset.cameras.camera_to_worlds[:, :3, :3].double().numpy()  # noqa: E731
    return frame_novelty(coefficients(train), rotations(train), coefficients(test)[test_indices], rotations(test)[test_indices])


def _novelty_correlation(psnrs: List[float], novelty: FrameNovelty) -> Dict[str, float]:
    """Rank correlations of the test frames' PSNR with their novelty (left out where undefined)."""
    return _correlations(psnrs, {"coefficient": novelty.coefficient_distance, "rotation": novelty.rotation_distance_deg})


def _correlations(psnrs: List[float], distances: Dict[str, Any]) -> Dict[str, float]:
    """Rank correlation of the test frames' PSNR with each per-frame distance (left out where undefined)."""
    correlations = {name: rank_correlation(psnrs, values) for name, values in distances.items()}
    return {name: value for name, value in correlations.items() if value == value}


def _write_picture(args: argparse.Namespace, trainer, run: Dict[str, Any]) -> None:
    """The last checkpoint's worst and median test frames, and of the scored training frames (what the model
    fits of the frames it saw): ground truth | prediction | error heat map."""
    checkpoint, datamanager = run["checkpoints"][-1], trainer.pipeline.datamanager
    novelty = run["test_novelty"]
    for split, dataset, picture in (
        ("test", datamanager.eval_dataset, f"{run['name']}_frames.png"),
        ("train", datamanager.train_dataset, f"{run['name']}_training_frames.png"),
    ):
        psnrs, frame_indices = checkpoint[split]["per_frame_psnr"], checkpoint[split]["frame_indices"]
        positions = worst_and_median(psnrs, args.picture_frames)
        indices = [frame_indices[position] for position in positions]
        ground_truths, predictions = render_dataset_frames(trainer, dataset, indices)
        labels = [
            f"{'worst' if rank < args.picture_frames else 'median'}: {split} frame {index}, PSNR {psnrs[position]:.2f}"
            + (f"\nfrom training: coefficients {novelty['coefficient_distance'][position]:.2f}, "
               f"pose {novelty['rotation_distance_deg'][position]:.1f} deg" if split == "test" else "")
            for rank, (position, index) in enumerate(zip(positions, indices))
        ]
        regions = [face_region(dataset, index, *truth.shape[:2]) for index, truth in zip(indices, ground_truths)]
        write_rgb_png(args.output_dir / picture, error_rows(ground_truths, predictions, labels, regions))
        key = "picture" if split == "test" else "training_picture"
        run[key], run[f"{key}_frame_indices"] = picture, indices


def main() -> None:
    args = parse_args()
    if args.compare:
        before, after = (json.loads(path.read_text()) for path in args.compare)
        print(f"A = {args.compare[0]}\nB = {args.compare[1]}")
        print(comparison_table(before, after))
        return
    # Every workspace is read before any training, so a broken one fails at once, naming its file.
    for data in args.data:
        try:
            read_sequence(data, "auto")
        except WorkspaceError as error:
            raise SystemExit(f"error: {error}") from None
    lpips, lpips_status = load_lpips_vgg(required=False)
    variants = _variant_runs(args)
    documents: Dict[str, Dict[str, Any]] = {}
    for label, variant_args in variants:
        variant_args.output_dir.mkdir(parents=True, exist_ok=True)
        documents[label] = {
            "method": args.method,
            "minutes": sorted(args.minutes),
            **({"variant": label} if label else {}),
            "overrides": parse_overrides(variant_args.override),
            "device": device_name(),
            "git_revision": git_revision(),
            "git_dirty": git_dirty(),
            "code_digest": code_digest(),
            "lpips": lpips_status,
            "runs": [],
        }
    for data, name in zip(args.data, _run_names(args.data)):
        for label, variant_args in variants:
            document = documents[label]
            _benchmark_workspace(variant_args, data, name, lpips, document)
            _write_json_atomically(variant_args.output_dir / RESULT_FILE, document)
            release_device_memory()
            print(run_table({"runs": document["runs"][-1:]}), flush=True)
    for label, variant_args in variants:
        print(f"\n{label + ': ' if label else ''}{run_table(documents[label])}\nwrote {variant_args.output_dir / RESULT_FILE}")
    (baseline, _), *others = variants
    for label, _ in others:
        print(f"\nA = {baseline}, B = {label}\n{comparison_table(documents[baseline], documents[label])}")


if __name__ == "__main__":
    main()
