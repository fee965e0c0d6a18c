"""How far each workspace's head-mask outlines stray from one head-fixed shape (docs/benchmarks.md).

    python scripts/benchmark_mask_consistency.py WS [WS ...] [--every-nth 2] [--output FILE.json]

For each workspace: the consensus visual hull of its masks, seen by every frame's camera, against the
frame's own mask outline: mean absolute offset in pixels over the upper head (hair, skull) and over the
whole outline, the spread over frames, the signed mean, and the areas only one of the two covers. No
GPU, no training: a tracker change that makes masks follow the head shows here before any benchmark run.
"""

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from nerfblend_ns.benchmarks.mask_consistency import MaskConsistencyConfig, mask_consistency
from nerfblend_ns.dataparsers.layouts import read_sequence
from nerfblend_ns.dataparsers.workspace_error import WorkspaceError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspaces", type=Path, nargs="+", help="tracked workspaces (any layout nerfblend reads)")
    parser.add_argument("--every-nth", type=int, default=1, help="use every n-th frame (1: all)")
    parser.add_argument("--resolution", type=int, default=MaskConsistencyConfig.resolution, help="cells per side of the hull's grid")
    parser.add_argument("--background-fraction", type=float, default=MaskConsistencyConfig.background_fraction,
                        help="a cell is outside the consensus when this fraction of the views that see it see background")
    parser.add_argument("--output", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    if args.every_nth < 1 or args.resolution < 8 or not 0.0 < args.background_fraction <= 1.0:
        parser.error("--every-nth must be ≥ 1, --resolution ≥ 8 and --background-fraction in (0, 1]")
    config = MaskConsistencyConfig(resolution=args.resolution, background_fraction=args.background_fraction)
    results = {}
    for workspace in args.workspaces:
        try:
            sequence = read_sequence(workspace)
        except WorkspaceError as error:
            raise SystemExit(f"benchmark_mask_consistency: {error}") from None
        try:
            scores = mask_consistency(sequence, config, list(range(0, len(sequence.frames), args.every_nth)))
        except (WorkspaceError, ValueError) as error:
            raise SystemExit(f"benchmark_mask_consistency: {error}") from None
        results[str(workspace)] = scores
        print(
            f"{workspace.name}: {scores['frames']} frames, cells of {scores['cell_px']:.1f} px; outline offset from the "
            f"consensus: upper head {scores['upper_mean_abs_px']:.2f} px (frames p10 {scores['upper_p10_px']:.2f}, "
            f"p90 {scores['upper_p90_px']:.2f}; signed {scores['upper_mean_signed_px']:+.2f}), whole outline "
            f"{scores['outline_mean_abs_px']:.2f} px; consensus-only area {scores['consensus_only_area']:.1%}, "
            f"mask-only area {scores['mask_only_area']:.1%}",
            flush=True,
        )
    if args.output is not None:
        args.output.write_text(json.dumps({"config": asdict(config), "every_nth": args.every_nth, "workspaces": results}, indent=1))


if __name__ == "__main__":
    main()
