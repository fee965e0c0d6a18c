"""Model config fields and checkpoint buffers renamed since runs were saved: where each now lives, so that
an older run's config.yml (`run_config_yaml` moves the fields) and checkpoints still load."""

from typing import Dict

from torch import Tensor

RENAMED_MODEL_FIELDS = {
    "occupancy_resolution": "occupancy.resolution",
    "occupancy_update_interval": "occupancy.update_interval",
    "occupancy_warmup_steps": "occupancy.warmup_steps",
    "occupancy_threshold": "occupancy.threshold",
    "occupancy_chunk": "occupancy.chunk",
    "occupancy_half_precision": "occupancy.half_precision",
    "expression_aware_occupancy": "occupancy.expression_aware",
    "render_step_size": "occupancy.training_step_size",
    "near_plane": "occupancy.near_plane",
    "far_plane": "occupancy.far_plane",
    "visual_hull": "occupancy.visual_hull",
    "render_step_scale": "renderer.step_scale",
    "alpha_threshold": "renderer.alpha_threshold",
    "render_half_precision": "renderer.half_precision",
    "render_early_stop_eps": "renderer.early_stop_eps",
    "render_expression_grid": "renderer.expression_grid",
    "render_fused": "renderer.fused",
    "render_cuda_graph": "renderer.cuda_graph",
    "clamp_expressions": "clamp_coefficients",
    "expression_noise": "coefficient_noise",
    "expression_dropout": "coefficient_dropout",
}
"""Old field name -> dotted path of the field that holds it now."""


_LEGACY_BUFFERS = {"expr_min": "minimum", "expr_max": "maximum", "train_expressions": "training_coefficients"}
"""The expression buffers' names in checkpoints written before they moved into `ExpressionSpace`."""


def renamed_expression_buffers(state_dict: Dict[str, Tensor], prefix: str, *_) -> None:
    """A load_state_dict pre-hook of the model: buffers under their former names move to their new ones."""
    for old, new in _LEGACY_BUFFERS.items():
        if prefix + old in state_dict:
            state_dict[f"{prefix}expression_space.{new}"] = state_dict.pop(prefix + old)
