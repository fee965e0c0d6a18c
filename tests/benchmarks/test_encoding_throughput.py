import torch
from torch.testing import assert_close

from nerfblend_ns.benchmarks.encoding_throughput import PLAIN_TORCH, measure_encoding, plain_torch_encoding
from nerfblend_ns.encodings import BlendedHashEncoding


def test_plain_torch_baseline_computes_the_encoding():
    torch.manual_seed(0)
    encoding = BlendedHashEncoding(4, num_levels=4, log2_hashmap_size=8, max_resolution=64, implementation="torch")
    with torch.no_grad():
        encoding.tables.normal_()
    positions = torch.rand(300, 3) * 1.2 - 0.1  # some outside the unit cube
    coefficients = torch.randn(2, 3, requires_grad=True)
    table_index = torch.randint(0, 2, (300,))
    upstream = torch.randn(300, encoding.output_dim)
    gradients = []
    for forward in (plain_torch_encoding, BlendedHashEncoding.__call__):
        encoding.tables.grad = coefficients.grad = None
        output = forward(encoding, positions, coefficients, table_index)
        output.backward(upstream)
        gradients.append((output.detach(), encoding.tables.grad.clone(), coefficients.grad.clone()))
    for plain, reference in zip(*gradients):
        assert_close(plain, reference, atol=1e-5, rtol=1e-5)


def test_every_implementation_is_measured_on_cpu():
    for implementation in ("torch", PLAIN_TORCH):
        for coefficient_gradients in (False, True):
            result = measure_encoding(
                implementation, 3, 2, 512, torch.device("cpu"), warmup=1, iterations=2,
                coefficient_gradients=coefficient_gradients,
            )
            assert result.implementation == implementation and result.ms > 0 and result.samples_per_second > 0
            assert result.coefficient_gradients == coefficient_gradients
