"""Train/val/test split of a video: the test set is its end, so it shows unseen expressions."""

from typing import Dict, Optional

import numpy as np


def split_indices(
    num_frames: int, test_frames: Optional[int], test_fraction: float, val_frames: int
) -> Dict[str, np.ndarray]:
    """Frame indices per split: test = the last frames, val = evenly spaced test frames, train = the rest.

    `test_frames` (a count) wins over `test_fraction`; a non-zero fraction holds out at least one frame.
    """
    if test_frames is None:
        test_frames = int(round(num_frames * test_fraction))
        if test_fraction > 0:
            test_frames = max(test_frames, 1)
    if test_frames < 0:
        raise ValueError(f"test_frames must be ≥ 0, got {test_frames}")
    test_frames = min(test_frames, num_frames)
    first_test = num_frames - test_frames
    test = np.arange(first_test, num_frames)
    val_count = min(val_frames, test_frames)
    val = test[np.unique(np.linspace(0, test_frames - 1, val_count).round().astype(int))] if val_count else test[:0]
    return {"train": np.arange(first_test), "val": val, "test": test}
