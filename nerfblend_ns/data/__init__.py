"""Training data for head avatars: frames cached once as uint8, rays drawn a few frames at a time.

- ``HeadDataset``: nerfstudio dataset whose items carry the head mask (``head_mask``, [H, W, 1])
- ``FrameCache``: every frame of a split in two compact tensors (RGB uint8, head mask bool)
- ``ray_batch_sampler``: which frames and pixels a training step uses (random rays, mouth/face patches)
- ``NerfBlendDataManager``: ray bundles carrying ``metadata[COEFFICIENTS_KEY]`` (``nerfblend_ns.expression_space``) and their target pixels
"""
