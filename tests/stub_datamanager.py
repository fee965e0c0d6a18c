"""A datamanager stand-in for the model's training callbacks: it records the patch sampling asked of it."""

from types import SimpleNamespace
from typing import Optional

from nerfblend_ns.data.patch_sampling import PatchSampling


class StubDataManager(PatchSampling):
    """Holds what the callbacks read (`train_dataset.cameras`, `frame_cache.head_masks`) when given."""

    def __init__(self, cameras: Optional[object] = None, head_masks: Optional[object] = None) -> None:
        self.sample_patches: Optional[bool] = None
        self.train_dataset = SimpleNamespace(cameras=cameras)
        self.frame_cache = SimpleNamespace(head_masks=head_masks)

    def set_patch_sampling(self, enabled: bool) -> None:
        self.sample_patches = enabled
