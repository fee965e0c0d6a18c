"""Speed of nerfblend: (a) the blended hash encoding, fused kernels against the torch reference;
(b) one training step split into phases; (c) rendering frames per second; (d) peak GPU memory
of training and rendering. Prints tables and writes JSON (rewritten after every part, so a part
that fails or runs out of time leaves the others' results).

    python scripts/benchmark.py --data WORKSPACE --output outputs/benchmark.json

(b)-(d) train the method from scratch for --warmup-steps first, so that the occupancy grid and
the samples per ray look like training's, then measure every implementation on that state.
--profile-steps adds the profiler's table of the costliest operators of training and rendering
(next to the JSON, .profile.txt). Quality against training time is scripts/benchmark_fidelity.py's job.
"""

import argparse
import json
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Dict, List

import torch
from nerfstudio.plugins.registry import discover_methods

from nerfblend_ns.benchmarks.encoding_throughput import PLAIN_TORCH, measure_encoding
from nerfblend_ns.benchmarks.kernel_profile import profile_table
from nerfblend_ns.benchmarks.render_speed import compare_render_option, measure_render, square_cameras
from nerfblend_ns.benchmarks.step_phases import PHASES, time_occupancy_update, time_step_phases, train_steps
from nerfblend_ns.benchmarks.timed_training import build_trainer, parse_overrides


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("outputs/benchmark.json"), help="JSON results")
    parser.add_argument("--implementations", nargs="+", default=["triton", "torch"], help="encoding lookups to compare")
    parser.add_argument("--expressions", type=int, nargs="*", default=[46, 51], help="(a) K; K + 1 tables; none: skip (a)")
    parser.add_argument("--frames", type=int, default=4, help="(a) frames blended per step")
    parser.add_argument("--log2-samples", type=int, default=18, help="(a) samples per forward+backward")
    parser.add_argument("--encoding-iterations", type=int, default=20, help="(a) timed iterations")
    parser.add_argument("--plain-baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="(a) also time the lookup as plain PyTorch writes it (gather every corner, weight, sum)")
    parser.add_argument("--coefficient-gradients", action="store_true",
                        help="(a) also back-propagate to the coefficients (training does not: they come from the tracker)")
    parser.add_argument("--data", type=Path, default=None, help="(b-d) tracked workspace; without it only (a) runs")
    parser.add_argument("--method", default="nerfblend", help="(b-d) registered method")
    parser.add_argument("--warmup-steps", type=int, default=1000, help="(b) training steps before measuring")
    parser.add_argument("--timed-steps", type=int, default=64, help="(b) steps timed per implementation")
    parser.add_argument("--occupancy-chunks", type=int, nargs="*", default=[], help="(b) also time one grid update per chunk")
    parser.add_argument("--occupancy-precisions", nargs="+", choices=["half", "float"], default=["half"],
                        help="(b) MLP precision of those updates")
    parser.add_argument("--render-size", type=int, default=512, help="(c) width and height of rendered frames")
    parser.add_argument("--render-frames", type=int, default=8, help="(c) test frames rendered")
    parser.add_argument("--render-chunks", type=int, nargs="*", default=[], help="(c) rays per chunk (default: the method's)")
    parser.add_argument("--profile-steps", type=int, default=0,
                        help="also profile this many steps and one frame per implementation")
    parser.add_argument("--override", nargs=2, action="append", default=[], metavar=("DOTTED.NAME", "PYTHON_LITERAL"),
                        help="config override, e.g. pipeline.model.occupancy.chunk 1048576")
    return parser.parse_args()


class Results:
    """The JSON document, written whenever a part finishes."""

    def __init__(self, path: Path, **context) -> None:
        self.path = path
        self.document: Dict = {**context, "errors": {}}
        path.parent.mkdir(parents=True, exist_ok=True)

    def run(self, part: str, measure: Callable[[], object]) -> None:
        try:
            self.document[part] = measure()
        except Exception:  # noqa: BLE001  a benchmark reports a broken part and goes on to the next
            self.document["errors"][part] = traceback.format_exc()
            print(f"{part} failed:\n{self.document['errors'][part]}", flush=True)
        self.path.write_text(json.dumps(self.document, indent=2))


def _print_table(title: str, header: List[str], rows: List[List[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).rjust(w) for cell, w in zip(row, widths)))


def encoding_part(args: argparse.Namespace, device: torch.device) -> List[Dict]:
    rows, results = [], []
    baselines = [PLAIN_TORCH] if args.plain_baseline else []
    for expressions in args.expressions:
        measured = {
            name: measure_encoding(
                name, expressions, args.frames, 2**args.log2_samples, device, iterations=args.encoding_iterations,
                coefficient_gradients=args.coefficient_gradients,
            )
            for name in args.implementations + baselines
        }
        for name, result in measured.items():
            speedups = {
                f"speedup_over_{base}": measured[base].ms / result.ms if base in measured else None
                for base in ("torch", PLAIN_TORCH)
            }
            results.append({**asdict(result), **speedups})
            rows.append([f"K={expressions}", name, f"{result.ms:.2f}", f"{result.samples_per_second / 1e6:.1f}",
                         *("-" if value is None else f"{value:.1f}x" for value in speedups.values()),
                         _gib(result.peak_memory_gib)])
    gradients = "bases and coefficients" if args.coefficient_gradients else "bases"
    _print_table(f"(a) encoding forward+backward to the {gradients}, {args.frames} frames, 2^{args.log2_samples} samples",
                 ["size", "lookup", "ms", "M samples/s", "vs torch", "vs plain torch", "peak GiB"], rows)
    return results


def _gib(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_profile(model, cameras, label: str) -> str:
    """The profiler's table of two frames, the first a warm-up."""
    table = profile_table(lambda: measure_render(model, cameras[:1], model.config.eval_num_rays_per_chunk), model.device)
    return f"== two {int(cameras[0].width)}² frames (the first a warm-up), {label}\n{table}"


def training_parts(args: argparse.Namespace, results: Results) -> None:
    overrides = parse_overrides(args.override)
    with tempfile.TemporaryDirectory() as runs:
        trainer = build_trainer(discover_methods()[0][args.method], args.data, Path(runs), overrides)
        model = trainer.pipeline.model
        device = model.device
        interval = model.config.occupancy.update_interval
        whole_intervals = lambda steps: -(-steps // interval) * interval  # noqa: E731
        results.run("warmup", lambda: asdict(train_steps(trainer, 0, args.warmup_steps)))
        # Windows of whole intervals: every implementation's holds the same number of grid updates,
        # and the occupancy measurements fall on update steps.
        step = whole_intervals(args.warmup_steps)
        results.run("warmup_to_interval", lambda: asdict(train_steps(trainer, args.warmup_steps, step - args.warmup_steps)))
        timed = whole_intervals(args.timed_steps)
        dataset = trainer.pipeline.datamanager.eval_dataset
        picked = sorted({int(i) for i in torch.linspace(0, len(dataset) - 1, args.render_frames).round()})
        cameras = square_cameras(dataset.cameras, picked, args.render_size)
        # The fused renderer runs on CUDA only and does its own lookups: it is measured once, below.
        renderer = getattr(model.config, "renderer", None)
        fused = renderer is not None and renderer.fused and device.type == "cuda"
        profiles = []
        for name in args.implementations:
            model.field.encoding.implementation = name
            results.run(f"steps_{name}", lambda: asdict(train_steps(trainer, step, timed)))
            step += timed
            results.run(f"phases_{name}", lambda: asdict(time_step_phases(trainer, step, timed, interval)))
            step += timed
            for chunk in args.occupancy_chunks:
                for precision in args.occupancy_precisions:
                    results.run(
                        f"occupancy_{name}_{chunk}_{precision}",
                        lambda: time_occupancy_update(trainer, step, chunk, precision == "half"),
                    )
            if not fused:
                for chunk in args.render_chunks or [model.config.eval_num_rays_per_chunk]:
                    results.run(f"render_{name}_{chunk}", lambda: asdict(measure_render(model, cameras, chunk)))
            if args.profile_steps:
                profiles.append(f"== {args.profile_steps} training steps, {name} lookup")
                profiles.append(profile_table(lambda: train_steps(trainer, step, args.profile_steps), device))
                step += whole_intervals(args.profile_steps)
                if not fused:
                    profiles.append(render_profile(model, cameras, f"{name} lookup"))
        if fused:
            # Against the torch path with the Triton lookup.
            model.field.encoding.implementation = "auto"
            for chunk in args.render_chunks or [model.config.eval_num_rays_per_chunk]:
                results.run(
                    f"render_paths_{chunk}",
                    lambda: compare_render_option(model, cameras, chunk, "fused", {"fused": True, "torch_path": False}),
                )
            if args.profile_steps:
                profiles.append(render_profile(model, cameras, "fused renderer"))
        if renderer is not None:
            scale, eps = renderer.step_scale, renderer.early_stop_eps
            # Test PSNR needs the test images' own size.
            batches = [dataset[i] for i in picked] if int(dataset.cameras.width[0]) == args.render_size else None
            comparisons = {
                "render_steps": ("step_scale", {f"steps x{scale:g}": scale, "training steps": 1.0}),
                "render_coarser_steps": ("step_scale", {f"steps x{scale:g}": scale, f"steps x{scale + 1:g}": scale + 1}),
                "render_early_stop": ("early_stop_eps", {f"stop at T<{eps:g}": eps, f"stop at T<{10 * eps:g}": 10 * eps}),
            }
            if fused and renderer.cuda_graph:
                comparisons["render_graph"] = ("cuda_graph", {"graph replayed": True, "operators": False})
            for key, (option, settings) in comparisons.items():
                results.run(
                    key,
                    lambda: compare_render_option(
                        model, cameras, model.config.eval_num_rays_per_chunk, option, settings, batches
                    ),
                )
        if profiles:
            args.output.with_suffix(".profile.txt").write_text("\n\n".join(profiles))
    _print_training(args, results.document)


def _print_training(args: argparse.Namespace, document: Dict) -> None:
    names = [n for n in args.implementations if f"phases_{n}" in document]
    if names:
        phases = {n: document[f"phases_{n}"] for n in names}
        rows = [[phase, *(f"{phases[n]['phase_ms'][phase]:.2f}" for n in names)] for phase in PHASES]
        rows.append(["sum (synchronised)", *(f"{phases[n]['step_ms']:.2f}" for n in names)])
        rows.append(["step, unsynchronised", *(_ms(document.get(f"steps_{n}", {}).get("step_ms"), 2) for n in names)])
        rows.append(["occupancy update", *(_ms(phases[n]["occupancy_update_ms"]) for n in names)])
        rows.append(["samples per step", *(f"{phases[n]['samples_per_step']:.0f}" for n in names)])
        rows.append(["peak GiB", *(_gib(document.get(f"steps_{n}", {}).get("peak_memory_gib")) for n in names)])
        _print_table(f"(b, d) training step of {args.method}, ms per step by phase", ["phase", *names], rows)
    rows = [
        [name, chunk, precision, _ms(update["ms"]), _gib(update["peak_memory_gib"])]
        for name in args.implementations for chunk in args.occupancy_chunks for precision in args.occupancy_precisions
        if (update := document.get(f"occupancy_{name}_{chunk}_{precision}"))
    ]
    if rows:
        _print_table("occupancy-grid update", ["lookup", "chunk", "MLP", "ms", "peak GiB"], rows)
    renders = [(name, r) for name in args.implementations for key, r in document.items() if key.startswith(f"render_{name}_")]
    for key, compared in document.items():
        if isinstance(compared, dict) and "psnr_between" in compared:
            labels = [label for label in compared if label != "psnr_between"]
            renders += [(f"{label} (PSNR between {compared['psnr_between']:.1f} dB)", compared[label]) for label in labels]
    for name, render in renders:
        if "psnr_vs_ground_truth" in render:
            print(f"test PSNR of {name}: {render['psnr_vs_ground_truth']:.3f} dB")
    rows = [
        [name, r["rays_per_chunk"], f"{r['fps']:.2f}", _ms(r["ms_per_frame"]), _ms(r["ms_per_frame_waited"]),
         f"{r['samples_per_ray']:.1f}",
         f"{r['samples_per_hit_ray']:.1f}", _gib(r["peak_memory_gib"])]
        for name, r in renders
    ]
    if rows:
        header = ["renderer", "rays/chunk", "fps", "ms", "ms waited", "samples/ray", "per hit ray", "peak GiB"]
        _print_table(f"(c, d) rendering {args.render_size}² test frames", header, rows)


def _ms(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results = Results(
        args.output, device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        torch=torch.__version__, arguments={k: str(v) for k, v in vars(args).items()},
    )
    if args.expressions:
        results.run("encoding", lambda: encoding_part(args, device))
    if args.data is not None:
        training_parts(args, results)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
