"""What the model asks of a datamanager while training: patches for the perceptual loss, from its stage on."""

import abc


class PatchSampling(abc.ABC):
    """A datamanager whose training batches can add one patch per frame (for the perceptual loss)."""

    @abc.abstractmethod
    def set_patch_sampling(self, enabled: bool) -> None:
        """From the next batch on, add one patch per frame (`enabled`) or draw random rays only."""
