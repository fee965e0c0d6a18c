"""nerfblend against the "concatenate" baseline and its ablations, at equal wall-clock training time.

Trains each variant in turn on one workspace and scores the same test frames after each budget
(evaluation time excluded). Writes quality.json (per variant and time: PSNR/SSIM/LPIPS/L1/MSE, steps,
s/step, peak GPU memory), psnr_vs_time.png (paper Fig. 8) and test_frames.png (rows: frames;
columns: ground truth, then each variant; paper Fig. 7, 12, 13).

    python scripts/benchmark_quality.py --data WORKSPACE --minutes 1 2 5 10 --output-dir outputs/quality
    python scripts/benchmark_quality.py --data WORKSPACE --small --minutes 0.5 1 --methods nerfblend nerfblend-concat

Variants: nerfblend; nerfblend-concat (one hash table, expression code concatenated, deeper MLP);
neutral-grid (nerfblend, occupancy grid from the neutral head only); no-lpips (nerfblend without the
perceptual loss, which acts only from the patch stage on: 20000 steps at paper size, so short budgets
move the stages earlier with --override).
"""

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List

import numpy as np

from nerfblend_ns.benchmarks.frame_grid import frame_grid, write_rgb_png
from nerfblend_ns.benchmarks.psnr_plot import plot_psnr_curves
from nerfblend_ns.benchmarks.run_info import code_digest, device_name, git_dirty, git_revision
from nerfblend_ns.benchmarks.timed_training import parse_overrides, with_run_length
from nerfblend_ns.benchmarks.variant_runs import VariantResult, release_device_memory, run_variant
from nerfblend_ns.benchmarks.variants import VARIANTS


def _write_outputs(
    args: argparse.Namespace,
    results: List[VariantResult],
    ground_truths: List[np.ndarray],
    predictions: Dict[str, List[np.ndarray]],
) -> None:
    summary = {
        "git_revision": git_revision(),
        "git_dirty": git_dirty(),
        "code_digest": code_digest(),
        "device": device_name(),
        "data": str(args.data),
        "small": args.small,
        "minutes": sorted(args.minutes),
        "variants": {result.key: asdict(result) for result in results},
    }
    (args.output_dir / "quality.json").write_text(json.dumps(summary, indent=2))
    curves = {r.label: [(c.minutes, c.metrics["psnr"]) for c in r.run.checkpoints] for r in results}
    plot_psnr_curves(curves, args.output_dir / "psnr_vs_time.png", f"{args.data.name}: test PSNR vs training time")
    write_rgb_png(args.output_dir / "test_frames.png", frame_grid(ground_truths, predictions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="tracked workspace")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 5, 10], help="checkpoint times per variant")
    parser.add_argument("--methods", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), help="variants to run")
    parser.add_argument("--small", action="store_true", help="the small CPU sizes of each method")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="stop a variant after this many steps, also its --max-num-iterations")
    parser.add_argument("--eval-frames", type=int, default=8, help="test frames scored at each checkpoint")
    parser.add_argument("--picture-frames", type=int, default=4, help="test frames in the comparison picture")
    parser.add_argument("--render-frames", type=int, default=0, help="test frames rendered to time each trained variant")
    parser.add_argument("--render-size", type=int, default=512, help="width and height of the timed frames")
    parser.add_argument("--override", nargs=2, action="append", default=[], metavar=("DOTTED.NAME", "VALUE"),
                        help="config override for every variant, e.g. pipeline.model.losses.patch_stage_start 3000")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/quality"), help="where results go")
    parser.add_argument("--runs-dir", type=Path, default=None, help="where the trainers write (default: output-dir/runs)")
    args = parser.parse_args()

    args.output_dir.mkdir(parents=True, exist_ok=True)
    common_overrides = parse_overrides(with_run_length(args.override, args.max_steps))
    results, ground_truths, predictions = [], [], {}
    for key in dict.fromkeys(args.methods):
        variant = VARIANTS[key]
        print(f"== {key}: {variant.label}", flush=True)
        result, ground_truths, predictions[variant.label] = run_variant(
            key, variant, args.small, args.data, args.runs_dir or args.output_dir / "runs",
            args.minutes, args.eval_frames, args.picture_frames, args.max_steps, common_overrides,
            args.render_frames, args.render_size,
        )
        results.append(result)
        release_device_memory()
        # After every variant, so that a run cut short keeps what it measured.
        _write_outputs(args, results, ground_truths, predictions)
        last = result.run.checkpoints[-1] if result.run.checkpoints else None
        print(f"{variant.label}: {result.parameters:,d} parameters, {result.run.seconds_per_step * 1000:.1f} ms/step"
              + (f", PSNR {last.metrics['psnr']:.2f} after {last.minutes:.2f} min" if last else ""), flush=True)
        for grid in ("expression_grid", "training_grid"):
            if grid in result.render:
                speed = result.render[grid]
                print(f"  render {speed['size']}² with the {grid.replace('_', ' ')}: {speed['fps']:.1f} fps, "
                      f"{speed['samples_per_ray']:.1f} samples/ray", flush=True)
        if result.render:
            print(f"  PSNR between the two grids' images: {result.render['psnr_between']:.1f} dB", flush=True)
    print(f"wrote quality.json, psnr_vs_time.png and test_frames.png to {args.output_dir}")


if __name__ == "__main__":
    main()
