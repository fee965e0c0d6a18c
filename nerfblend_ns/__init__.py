"""nerfblend: NeRFBlendShape semantic head avatars as a nerfstudio method.

nerfstudio imports this package (its method plugin) before any `ns-*` command reads a run's config,
so the guards below hold in those commands too.
"""

from nerfblend_ns.checkpoint_loading import allow_numpy_scalars_in_checkpoints
from nerfblend_ns.input_errors import report_uncaught_input_errors
from nerfblend_ns.run_config_yaml import guard_full_yaml_loader

allow_numpy_scalars_in_checkpoints()
guard_full_yaml_loader()
report_uncaught_input_errors()
