"""Test PSNR/SSIM/LPIPS/L1/MSE of a method after fixed minutes of training, and a picture of test frames.

    python scripts/benchmark_training.py --data WORKSPACE --minutes 2 5 10 --output-dir outputs/bench
"""

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from nerfstudio.plugins.registry import discover_methods

from nerfblend_ns.benchmarks.frame_grid import frame_grid, write_rgb_png
from nerfblend_ns.benchmarks.run_info import device_name, git_revision
from nerfblend_ns.benchmarks.test_frame_renders import evenly_spaced, render_test_frames
from nerfblend_ns.benchmarks.timed_training import build_trainer, train_with_checkpoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="tracked workspace")
    parser.add_argument("--method", default="nerfblend", help="registered method name")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 5, 10], help="checkpoint times")
    parser.add_argument("--max-steps", type=int, default=10**7, help="stop after this many steps")
    parser.add_argument("--test-stride", type=int, default=4, help="evaluate every n-th test frame")
    parser.add_argument("--picture-frames", type=int, default=4, help="test frames in the comparison picture")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/benchmark"), help="where results go")
    parser.add_argument("--runs-dir", type=Path, default=None, help="where the trainer writes (default: output-dir/runs)")
    args = parser.parse_args()

    args.output_dir.mkdir(parents=True, exist_ok=True)
    trainer = build_trainer(discover_methods()[0][args.method], args.data, args.runs_dir or args.output_dir / "runs")
    test_count = len(trainer.pipeline.datamanager.eval_dataset)
    frames = list(range(0, test_count, args.test_stride))
    run = train_with_checkpoints(trainer, args.minutes, frames, args.max_steps)
    picture = args.output_dir / f"{args.method}_test_frames.png"
    ground_truths, predictions = render_test_frames(trainer, evenly_spaced(test_count, args.picture_frames))
    write_rgb_png(picture, frame_grid(ground_truths, {args.method: predictions}))
    result = {**asdict(run), "data": str(args.data), "device": device_name(), "git_revision": git_revision()}
    (args.output_dir / f"{args.method}_training.json").write_text(json.dumps(result, indent=2))
    print(f"steps/s {1 / run.seconds_per_step:.1f}, peak memory {run.peak_memory_gib} GiB; wrote {picture}")


if __name__ == "__main__":
    main()
