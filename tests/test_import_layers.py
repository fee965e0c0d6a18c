"""Imports flow one way: no cycles among nerfblend_ns modules, and no package imports one above it.

The imports are read from the source (ast), so nothing is imported and every import counts, including
those inside functions and under `TYPE_CHECKING`.
"""

import ast
from collections import defaultdict
from pathlib import Path
from typing import Dict, FrozenSet, List, Sequence, Set, Tuple

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "nerfblend_ns"

LAYERS: Sequence[FrozenSet[str]] = (
    frozenset({"input_errors", "pinhole_intrinsics", "face_mesh_landmarks", "known_warnings", "expression_space"}
              | {"spatial_order", "mask_holes", "residual_coefficients"}),
    frozenset({"mask_hull"}),
    frozenset({"checkpoint_choice", "checkpoint_loading", "checkpoint_weights", "run_config_yaml"}
              | {"encodings", "metrics", "perceptual", "viewer"}),
    frozenset({"__init__", "dataparsers"}),
    frozenset({"data", "synthetic", "tracking"}),
    frozenset({"fields"}),
    frozenset({"rendering"}),
    frozenset({"models", "resuming_trainer"}),
    frozenset({"method_configs"}),
    frozenset({"avatar", "benchmarks"}),
    frozenset({"commands"}),
)
"""nerfblend_ns's packages and top-level modules, bottom first (`__init__`: the plugin's import hook). A
module imports only from lower layers and from its own package; the others of its layer are not its to use."""

TRACKING_LAYERS: Sequence[FrozenSet[str]] = (
    frozenset({"__init__", "errors"}),
    frozenset({"mediapipe_tasks", "video", "poses", "expressions"}),
    frozenset({"face", "masks"}),
    frozenset({"workspace"}),
    frozenset({"reporting", "run_config", "frame_tracking", "clip_assembly"}),
    frozenset({"video_to_workspace"}),
)
"""The tracker's sub-packages and modules, by the same rule (`__init__`: the tracking package itself)."""

KNOWN_CYCLES: List[FrozenSet[str]] = []
"""Cycles being removed; an entry fails the test once its cycle is gone, so that it is deleted."""

KNOWN_UPWARD_IMPORTS: Set[Tuple[str, str]] = set()
"""(importer, imported) pairs that break LAYERS and are being removed; stale entries fail like KNOWN_CYCLES."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> Dict[str, Set[str]]:
    """Every nerfblend_ns module -> the nerfblend_ns modules it imports (the module itself, not its package)."""
    paths = {_module_name(path): path for path in PACKAGE_ROOT.rglob("*.py")}
    graph: Dict[str, Set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            for candidate in candidates:
                while candidate and candidate not in paths:
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate != name:
                    targets.add(candidate)
                    break
        graph[name] = targets
    return graph


def _cycles(graph: Dict[str, Set[str]]) -> List[FrozenSet[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[FrozenSet[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while not component or member != node:
                member = stack.pop()
                component.add(member)
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _unit(module: str, package: str) -> str:
    """The sub-package or module of `package` that holds `module` (`__init__` for the package itself)."""
    rest = module[len(package) + 1 :] if module != package else ""
    return rest.split(".")[0] if rest else "__init__"


def _layer_violations(
    graph: Dict[str, Set[str]], package: str, layers: Sequence[FrozenSet[str]]
) -> Set[Tuple[str, str]]:
    """(importer, imported) pairs inside `package` where a module imports from its own layer or above."""
    level = {unit: number for number, layer in enumerate(layers) for unit in layer}
    inside = {module for module in graph if module == package or module.startswith(package + ".")}
    unplaced = sorted({_unit(module, package) for module in inside} - set(level))
    assert not unplaced, f"place {unplaced} of {package} in its layer table"
    violations = set()
    for importer in inside:
        for imported in graph[importer] & inside:
            source, target = _unit(importer, package), _unit(imported, package)
            if source != target and level[target] >= level[source]:
                violations.add((importer, imported))
    return violations


@pytest.fixture(scope="module")
def graph() -> Dict[str, Set[str]]:
    return _import_graph()


def test_the_import_graph_is_read(graph):
    assert "nerfblend_ns.tracking.workspace.resume_cache" in graph["nerfblend_ns.tracking.video_to_workspace"]
    assert "nerfblend_ns.face_mesh_landmarks" in graph["nerfblend_ns.dataparsers.landmark_file"]
    assert "nerfblend_ns.spatial_order" in graph["nerfblend_ns.rendering.ray_order"]


def test_cycle_finder_finds_a_cycle_and_only_it():
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(toy) == [frozenset({"a", "b", "c"})]


def test_no_import_cycles(graph):
    cycles = _cycles(graph)
    assert [cycle for cycle in cycles if cycle not in KNOWN_CYCLES] == []
    assert [cycle for cycle in KNOWN_CYCLES if cycle not in cycles] == [], "delete the removed cycle from KNOWN_CYCLES"


def test_packages_import_only_from_lower_layers(graph):
    violations = _layer_violations(graph, "nerfblend_ns", LAYERS)
    assert sorted(violations - KNOWN_UPWARD_IMPORTS) == []
    assert sorted(KNOWN_UPWARD_IMPORTS - violations) == [], "delete the removed import from KNOWN_UPWARD_IMPORTS"


def test_tracking_sub_packages_import_only_from_lower_layers(graph):
    assert sorted(_layer_violations(graph, "nerfblend_ns.tracking", TRACKING_LAYERS)) == []


def test_the_layer_check_catches_an_upward_and_a_sideways_import():
    toy = {"p": set(), "p.low": {"p.high.x"}, "p.high.x": set(), "p.high.y": {"p.side"}, "p.side": set()}
    layers = (frozenset({"__init__", "low"}), frozenset({"high", "side"}))
    assert _layer_violations(toy, "p", layers) == {("p.low", "p.high.x"), ("p.high.y", "p.side")}
