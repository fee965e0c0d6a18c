"""Test PSNR/SSIM/LPIPS/L1/MSE of a method after fixed minutes of training, a picture of test frames,
and the trained model's rendering speed.

    python scripts/benchmark_training.py --data WORKSPACE --minutes 2 5 10 --output-dir outputs/bench

The JSON is rewritten at every checkpoint, so a run cut short keeps what it measured.
"""

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from nerfstudio.plugins.registry import discover_methods

from nerfblend_ns.benchmarks.frame_grid import frame_grid, write_rgb_png
from nerfblend_ns.benchmarks.render_speed import measure_render, square_cameras
from nerfblend_ns.benchmarks.run_info import device_name, git_revision
from nerfblend_ns.benchmarks.test_frame_renders import evenly_spaced, render_test_frames
from nerfblend_ns.benchmarks.timed_training import TimedRun, build_trainer, train_with_checkpoints


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="tracked workspace")
    parser.add_argument("--method", default="nerfblend", help="registered method name")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 5, 10], help="checkpoint times")
    parser.add_argument("--max-steps", type=int, default=10**7, help="stop after this many steps")
    parser.add_argument("--test-stride", type=int, default=4, help="evaluate every n-th test frame")
    parser.add_argument("--train-frames", type=int, default=8, help="training frames also scored at each checkpoint")
    parser.add_argument("--picture-frames", type=int, default=4, help="test frames in the comparison picture")
    parser.add_argument("--render-frames", type=int, default=8, help="test frames rendered to time the trained model (0: none)")
    parser.add_argument("--render-size", type=int, default=512, help="width and height of the timed frames")
    parser.add_argument("--render-chunks", type=int, nargs="*", default=[], help="rays per chunk to time (default: the method's)")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/benchmark"), help="where results go")
    parser.add_argument("--runs-dir", type=Path, default=None, help="where the trainer writes (default: output-dir/runs)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    trainer = build_trainer(discover_methods()[0][args.method], args.data, args.runs_dir or args.output_dir / "runs")
    datamanager, model = trainer.pipeline.datamanager, trainer.pipeline.model
    test_count = len(datamanager.eval_dataset)
    result = {"data": str(args.data), "device": device_name(), "git_revision": git_revision()}
    json_path = args.output_dir / f"{args.method}_training.json"

    def save(run: TimedRun) -> None:
        json_path.write_text(json.dumps({**asdict(run), **result}, indent=2))

    run = train_with_checkpoints(
        trainer, args.minutes, list(range(0, test_count, args.test_stride)), args.max_steps,
        evenly_spaced(len(datamanager.train_dataset), args.train_frames), on_checkpoint=save,
    )
    picture = args.output_dir / f"{args.method}_test_frames.png"
    ground_truths, predictions = render_test_frames(trainer, evenly_spaced(test_count, args.picture_frames))
    write_rgb_png(picture, frame_grid(ground_truths, {args.method: predictions}))
    if args.render_frames:
        cameras = square_cameras(datamanager.eval_dataset.cameras, evenly_spaced(test_count, args.render_frames), args.render_size)
        renders = [asdict(measure_render(model, cameras, chunk)) for chunk in args.render_chunks or [model.config.eval_num_rays_per_chunk]]
        result["render"] = renders
        for render in renders:
            print(f"render {render['size']}², {render['rays_per_chunk']} rays/chunk: {render['fps']:.1f} fps, "
                  f"{render['samples_per_ray']:.1f} samples/ray ({render['samples_per_hit_ray']:.1f} on the "
                  f"{100 * render['hit_fraction']:.0f}% of rays that meet occupied cells, {100 * render['opaque_fraction']:.0f}% "
                  f"of those opaque), peak {render['peak_memory_gib']} GiB", flush=True)
    save(run)
    print(f"steps/s {1 / run.seconds_per_step:.1f}, peak memory {run.peak_memory_gib} GiB; wrote {picture}")


if __name__ == "__main__":
    main()
