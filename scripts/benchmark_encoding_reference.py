"""Forward+backward timing of the torch BlendedHashEncoding at the paper's size.

    PYTHONPATH=. python scripts/benchmark_encoding_reference.py --expressions 46 51
"""

from __future__ import annotations

import argparse
import time

import torch

from nerfblend_ns.encodings import BlendedHashEncoding


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expressions", type=int, nargs="+", default=[46, 51], help="K; K + 1 tables")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--log2-samples", type=int, default=18)
    parser.add_argument("--log2-hashmap-size", type=int, default=14)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser.parse_args()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def benchmark(expressions: int, args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    num_samples = 2**args.log2_samples
    encoding = BlendedHashEncoding(expressions + 1, log2_hashmap_size=args.log2_hashmap_size).to(device)
    positions = torch.rand(num_samples, 3, device=device)
    weights = torch.randn(args.frames, expressions, device=device)
    frame_index = torch.randint(0, args.frames, (num_samples,), device=device)
    output_grad = torch.randn(num_samples, encoding.output_dim, device=device)

    def step() -> None:
        encoding.tables.grad = None
        encoding(positions, weights, frame_index).backward(output_grad)

    for _ in range(args.warmup):
        step()
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    synchronize(device)
    seconds = (time.perf_counter() - start) / args.iters

    line = (
        f"K={expressions} tables={expressions + 1} frames={args.frames} samples=2^{args.log2_samples} "
        f"device={device.type}: {seconds * 1e3:.2f} ms fwd+bwd, {num_samples / seconds / 1e6:.2f} M samples/s"
    )
    if device.type == "cuda":
        line += f", peak {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB"
    print(line)


def main() -> None:
    args = parse_args()
    for expressions in args.expressions:
        benchmark(expressions, args)


if __name__ == "__main__":
    main()
