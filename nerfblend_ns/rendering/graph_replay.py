"""A function of fixed-shape CUDA tensors captured once as a CUDA graph and replayed.

Rendering a frame queues a few dozen operators and one kernel; launched one by one from Python they
take the host a millisecond or two, during which the GPU waits (each frame starts after a host read of
the camera's size). A replayed graph queues them all in one launch.

A graph reads and writes fixed addresses: its inputs are copied into buffers it owns, its outputs are
cloned out of its own, and every other tensor it reads (parameters, cached buffers) must stay where it
was at capture and be updated in place; callers key graphs on those tensors' addresses.
"""

from collections import OrderedDict
from typing import Callable, Dict, Hashable, Sequence

import torch
from torch import Tensor

GraphedOutputs = Dict[str, Tensor]


class GraphedFunction:
    """`function(*inputs)` captured with example `inputs`; calls replay it on new values of the same shapes."""

    def __init__(self, function: Callable[..., GraphedOutputs], inputs: Sequence[Tensor]) -> None:
        self._inputs = [value.clone() for value in inputs]
        self._device = self._inputs[0].device
        # Streams and graphs belong to the current device, which need not be the inputs' (several GPUs).
        with torch.cuda.device(self._device):
            # Run once outside the capture, as torch.cuda.graphs asks: lazy initialisation (cuBLAS handles,
            # Triton compilation) may not happen while a stream is captured.
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                function(*self._inputs)
            torch.cuda.current_stream().wait_stream(side)
            self._graph = torch.cuda.CUDAGraph()
            # Thread-local: the viewer renders from its own thread while training may queue work from another.
            with torch.cuda.graph(self._graph, capture_error_mode="thread_local"):
                self._outputs = function(*self._inputs)

    def __call__(self, *inputs: Tensor) -> GraphedOutputs:
        if len(inputs) != len(self._inputs):
            raise ValueError(f"the graph takes {len(self._inputs)} inputs, not {len(inputs)}")
        for buffer, value in zip(self._inputs, inputs):
            if buffer.shape != value.shape:
                raise ValueError(f"captured with an input of shape {tuple(buffer.shape)}, given {tuple(value.shape)}")
        with torch.cuda.device(self._device):
            for buffer, value in zip(self._inputs, inputs):
                buffer.copy_(value)
            self._graph.replay()
            # The next replay writes the same outputs again.
            return {name: value.clone() for name, value in self._outputs.items()}


class GraphCache:
    """The most recently used graphs by key: a viewer alternates a few image sizes (coarse while the camera
    moves), each capture costs about three renders and holds its own memory."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._graphs: "OrderedDict[Hashable, GraphedFunction]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._graphs)

    def __call__(
        self, key: Hashable, function: Callable[..., GraphedOutputs], inputs: Sequence[Tensor]
    ) -> GraphedOutputs:
        """`function(*inputs)` through the graph captured for `key` (captured now if there is none)."""
        graph = self._graphs.pop(key, None)
        if graph is None:
            while len(self._graphs) >= self.capacity:
                self._graphs.popitem(last=False)
            graph = GraphedFunction(function, inputs)
        self._graphs[key] = graph
        return graph(*inputs)
