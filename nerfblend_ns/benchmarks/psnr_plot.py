"""Test PSNR against training time, one curve per method (paper Fig. 8)."""

from pathlib import Path
from typing import Dict, List, Tuple

from matplotlib.figure import Figure


def plot_psnr_curves(curves: Dict[str, List[Tuple[float, float]]], path: Path, title: str) -> None:
    """Writes a PNG of the (minutes, PSNR) points of each labelled method."""
    # A bare Figure, not pyplot: no global backend or figure state in a library call.
    figure = Figure(figsize=(6.4, 4.2), dpi=120)
    axes = figure.add_subplot()
    for label, points in curves.items():
        minutes, psnr = zip(*points) if points else ((), ())
        axes.plot(minutes, psnr, marker="o", label=label)
    axes.set_xlabel("training time (min, evaluations excluded)")
    axes.set_ylabel("test PSNR (dB)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
