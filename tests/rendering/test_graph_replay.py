import pytest
import torch

from nerfblend_ns.rendering.graph_replay import GraphCache, GraphedFunction

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


class _Counted:
    """(a + b, column sums of a · b), counting how often Python runs it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, a: torch.Tensor, b: torch.Tensor):
        self.calls += 1
        return {"sum": a + b, "dot": (a * b).sum(dim=0)}


def _inputs(seed: int):
    generator = torch.Generator(device="cuda").manual_seed(seed)
    return [torch.randn(64, 3, device="cuda", generator=generator) for _ in range(2)]


def test_a_replay_computes_what_the_function_does_on_new_inputs():
    function = _Counted()
    graphed = GraphedFunction(function, _inputs(0))
    assert function.calls == 2  # once to warm up, once captured
    first_inputs, second_inputs = _inputs(1), _inputs(2)
    first = graphed(*first_inputs)
    second = graphed(*second_inputs)
    assert function.calls == 2
    for outputs, inputs in ((first, first_inputs), (second, second_inputs)):
        expected = _Counted()(*inputs)
        for name, value in expected.items():
            torch.testing.assert_close(outputs[name], value, rtol=0, atol=0)
    # Outputs are the caller's: a later replay leaves them alone.
    assert not torch.equal(first["sum"], second["sum"])


def test_inputs_of_another_shape_are_refused():
    graphed = GraphedFunction(_Counted(), _inputs(0))
    with pytest.raises(ValueError, match=r"shape \(64, 3\), given \(8, 3\)"):
        graphed(torch.zeros(8, 3, device="cuda"), torch.zeros(8, 3, device="cuda"))
    with pytest.raises(ValueError, match="takes 2 inputs"):
        graphed(torch.zeros(64, 3, device="cuda"))


def test_the_cache_captures_once_per_key_and_keeps_the_latest():
    function = _Counted()
    cache = GraphCache(capacity=2)
    for key in ("a", "b", "a", "a", "c", "a", "b"):
        outputs = cache(key, function, _inputs(3))
        torch.testing.assert_close(outputs["sum"], sum(_inputs(3)), rtol=0, atol=0)
    # Captured: a, b, c (evicting b, the least recently used), then b again (evicting c).
    assert function.calls == 2 * 4
    assert len(cache) == 2
