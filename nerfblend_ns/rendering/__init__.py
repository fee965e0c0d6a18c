"""Ray marching through the occupancy grid and volume rendering of packed samples.

Every function has a pure-torch path that runs anywhere and is the reference; on CUDA tensors the
nerfacc kernels with the same semantics are used.
"""
