"""nerfblend: NeRFBlendShape semantic head avatars as a nerfstudio method."""

from nerfblend_ns.checkpoint_loading import allow_numpy_scalars_in_checkpoints

allow_numpy_scalars_in_checkpoints()
