"""A checkpoint must hold every trained weight of the model it is loaded into.

nerfstudio's pipeline loads a model's state strictly and, when that fails, again without strictness, so
a checkpoint of another model (or of nothing) loaded without a word: the model kept its untrained
weights and `ns-eval` scored them, `nerfblend-render` rendered them. Entries the model does not have
(weights of options this run leaves off) and missing buffers stay allowed, as nerfstudio allows them.
"""

from typing import Any, Mapping

import torch

from nerfblend_ns.input_errors import InputError

SHOWN_NAMES = 4
"""Missing weights named in a refusal; the rest are counted."""


class CheckpointWeightsError(InputError):
    """A checkpoint lacks weights of the model it is loaded into."""


def require_trained_weights(model: torch.nn.Module, state_dict: Mapping[str, Any]) -> None:
    """Refuses `state_dict` (the model's keys, without the pipeline's prefix) where a parameter of `model` is absent."""
    names = [name for name, _ in model.named_parameters()]
    missing = [name for name in names if name not in state_dict]
    if missing:
        shown = ", ".join(missing[:SHOWN_NAMES]) + (f", … ({len(missing) - SHOWN_NAMES} more)" if len(missing) > SHOWN_NAMES else "")
        raise CheckpointWeightsError(
            f"the checkpoint holds {len(names) - len(missing)} of the model's {len(names)} weights (missing: {shown}); "
            "it was not saved by this run's method and settings: load the run's own nerfstudio_models/step-*.ckpt"
        )
