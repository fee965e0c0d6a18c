"""One occupancy grid for all processes of a distributed run.

Each process refreshes its grid from cells and jitter drawn with its own random stream, so left
alone the ranks would skip different space while training one shared field. DDP as nerfstudio builds
it also copies rank 0's buffers before each training forward; this holds from the update on, and
whatever the wrapper's buffer setting.
"""

import torch.distributed as dist
from nerfacc import OccGridEstimator


def broadcast_occupancy(grid: OccGridEstimator) -> None:
    """Overwrites this process's occupancy values (occs [L·R³]) and bits (binaries [L, R, R, R]) with
    rank 0's; a no-op unless torch.distributed runs more than one process."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return
    # Marching reads the bits and the next update decays the values: both must agree across ranks.
    for buffer in (grid.occs, grid.binaries):
        dist.broadcast(buffer, src=0)
