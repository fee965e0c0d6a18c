"""Reads a run's `config.yml` without running anything it names.

nerfstudio writes a run's config with PyYAML's python tags and reads it back with the full loader,
which calls any function a tag names (`!!python/object/apply:os.system [...]`): opening a shared
avatar would run its author's code. `RunConfigLoader` builds what nerfstudio configs hold and
nothing else:

- `!!python/object:` a dataclass defined by nerfstudio, nerfblend or an installed nerfstudio plugin,
  filled field by field (no constructor, no `__setstate__`, no dunder fields);
- `!!python/object/apply:` only `pathlib` paths (of strings), the enums of those packages (a lookup
  of a member by value) and a generic class of theirs subscripted with a class;
- `!!python/name:` a class or function of those packages (the configs' `_target`), or a
  `torch.optim` optimizer or scheduler class;
- `!!python/tuple` and plain YAML.

Everything else (other modules, `!!python/module`, `!!python/object/new`, builtins) is refused
before any module is imported.
"""

import dataclasses
import enum
import functools
import inspect
import pathlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, FrozenSet

import torch
import yaml
from yaml.constructor import ConstructorError, FullConstructor

from nerfblend_ns.input_errors import InputError

CONFIG_PACKAGES = frozenset({"nerfstudio", "nerfblend_ns"})
"""Packages whose config classes a run's config may hold, besides installed nerfstudio plugins'."""
PLUGIN_ENTRY_POINT_GROUPS = ("nerfstudio.method_configs", "nerfstudio.dataparser_configs")
PATH_CLASSES = (pathlib.PurePath,)
SUBSCRIPT_NAMES = ("_operator.getitem", "operator.getitem")
"""How PyYAML writes a subscripted generic class, `VanillaDataManager[SDFDataset]`."""
TORCH_TARGETS = (torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler)
"""Classes outside the config packages that nerfstudio configs name as a `_target`."""
RENAMED_FIELDS = "renamed_fields"
"""Class attribute of a config dataclass: {old field name: dotted path of its new place}."""


class ConfigError(ConstructorError, InputError):
    """A config.yml that cannot be built into a run's config; the message gives the line."""

    def __str__(self) -> str:
        where = f"config line {self.problem_mark.line + 1}: " if self.problem_mark is not None else ""
        return f"{where}{self.problem}"


class UnsafeConfigError(ConfigError):
    """A config.yml names something that is not a config class: it was refused, nothing ran."""


@functools.lru_cache(maxsize=1)
def config_packages() -> FrozenSet[str]:
    """nerfstudio, nerfblend and the top-level packages of every installed nerfstudio plugin."""
    plugins = {
        entry.value.split(":")[0].split(".")[0] for group in PLUGIN_ENTRY_POINT_GROUPS for entry in entry_points(group=group)
    }
    return CONFIG_PACKAGES | plugins


def _in_config_package(module_name: str) -> bool:
    return module_name.split(".")[0] in config_packages()


class RunConfigLoader(yaml.loader.Loader):
    """PyYAML's loader with its python tags restricted to what nerfstudio configs hold."""

    def _refuse(self, tag: str, mark: Any, why: str) -> UnsafeConfigError:
        return UnsafeConfigError(
            None, None, f"refused !!python/{tag}: {why}; a run's config holds only config classes, so this file "
            "was not written by ns-train or was edited to run code", mark,
        )

    def find_python_module(self, name: str, mark: Any) -> Any:
        raise self._refuse(f"module:{name}", mark, "a config never holds a module")

    def find_python_name(self, name: str, mark: Any) -> Any:
        module_name = name.rsplit(".", 1)[0] if "." in name else "builtins"
        # Modules outside these are never imported; what may be taken from them is checked by each tag.
        if not (_in_config_package(module_name) or module_name.split(".")[0] in ("torch", "pathlib")):
            raise self._refuse(f"name:{name}", mark, f"'{module_name}' is not nerfstudio, nerfblend or a nerfstudio plugin")
        return FullConstructor.find_python_name(self, name, mark, unsafe=True)

    def construct_python_name(self, suffix: str, node: Any) -> Any:
        found = FullConstructor.construct_python_name(self, suffix, node)
        defined_in_config_package = (inspect.isclass(found) or inspect.isfunction(found)) and _in_config_package(
            getattr(found, "__module__", "")
        )
        if not (defined_in_config_package or (inspect.isclass(found) and issubclass(found, TORCH_TARGETS))):
            raise self._refuse(f"name:{suffix}", node.start_mark, "not a class or function of a config package, nor a torch optimizer")
        return found

    def make_python_instance(self, suffix: str, node: Any, args=None, kwds=None, newobj: bool = False) -> Any:
        if suffix in SUBSCRIPT_NAMES and not newobj:
            return self._generic_alias(suffix, node, list(args or []), kwds)
        cls = self.find_python_name(suffix, node.start_mark)
        if not inspect.isclass(cls):
            raise self._refuse(f"object:{suffix}", node.start_mark, "not a class")
        if newobj:  # !!python/object: filled field by field by set_python_instance_state
            if not dataclasses.is_dataclass(cls) or args or kwds:
                raise self._refuse(f"object:{suffix}", node.start_mark, "not a config dataclass")
            return cls.__new__(cls)
        args, kwds = list(args or []), dict(kwds or {})
        if issubclass(cls, PATH_CLASSES) and not kwds and all(isinstance(part, str) for part in args):
            return cls(*args)
        if issubclass(cls, enum.Enum) and len(args) == 1 and not kwds:
            try:
                return cls(args[0])
            except ValueError:
                raise ConfigError(None, None, f"{args[0]!r} is not a {cls.__name__}", node.start_mark) from None
        raise self._refuse(f"object/apply:{suffix}", node.start_mark, "only paths and config enums may be built by a call")

    def _generic_alias(self, suffix: str, node: Any, args: list, kwds: Any) -> Any:
        """`Generic[Parameter]` (a datamanager's `_target` with its dataset class), which PyYAML writes as a call."""
        generic, parameter = args if len(args) == 2 and not kwds else (None, None)
        if not (inspect.isclass(generic) and _in_config_package(generic.__module__) and inspect.isclass(parameter)):
            raise self._refuse(f"object/apply:{suffix}", node.start_mark, "only a config package's generic class may be subscripted")
        return generic[parameter]

    def set_python_instance_state(self, instance: Any, state: Any) -> None:
        if not isinstance(state, dict):
            raise UnsafeConfigError(None, None, f"the fields of a {type(instance).__name__} must be a mapping", None)
        for key in state:  # no __setstate__ is ever called, and no dunder name set
            if not isinstance(key, str) or self.get_state_keys_blacklist_regexp().match(key):
                raise UnsafeConfigError(None, None, f"refused !!python/object field {key!r} of a {type(instance).__name__}", None)
        instance.__dict__.update(_current_fields(type(instance), dict(state)))

    def get_single_data(self) -> Any:
        try:
            return super().get_single_data()
        except RecursionError:
            raise ConfigError(None, None, "nested too deeply to be a run's config", None) from None

    def construct_python_object_new(self, suffix: str, node: Any) -> Any:
        raise self._refuse(f"object/new:{suffix}", node.start_mark, "a config never needs an object built this way")


def _current_fields(cls: type, state: dict) -> dict:
    """`state` of a saved `cls` in the fields `cls` has now: a field renamed since the run was saved (the
    class's `renamed_fields`, old name -> dotted new path) moves to its new place, and a field added since
    with a default takes it, so that an older run's config.yml still loads."""
    for old, new in getattr(cls, RENAMED_FIELDS, {}).items():
        if old not in state:
            continue
        *parents, name = new.split(".")
        owner_class, owner = cls, state
        for parent in parents:
            if parent not in owner:
                owner[parent] = _field_default(owner_class, parent)
            owner_class, owner = type(owner[parent]), vars(owner[parent])
        owner[name] = state.pop(old)
    if dataclasses.is_dataclass(cls):
        for missing in (f for f in dataclasses.fields(cls) if f.name not in state):
            default = _field_default(cls, missing.name)
            if default is not dataclasses.MISSING:
                state[missing.name] = default
    return state


def _field_default(cls: type, name: str) -> Any:
    """The default of `cls`'s field `name` (a fresh one from its factory), or `dataclasses.MISSING`."""
    declared = {f.name: f for f in dataclasses.fields(cls)}[name]
    if declared.default_factory is not dataclasses.MISSING:
        return declared.default_factory()
    return declared.default


RunConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/name:", RunConfigLoader.construct_python_name)
RunConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/object/new:", RunConfigLoader.construct_python_object_new)


def load_run_config(path: Path) -> Any:
    """The object a run's config.yml describes; raises `UnsafeConfigError` for anything but config classes."""
    return yaml.load(path.read_text(), Loader=RunConfigLoader)


def training_workspace(config: Any) -> Path:
    """The workspace a run's config (a TrainerConfig) trains on."""
    datamanager = config.pipeline.datamanager
    return Path(datamanager.data or datamanager.dataparser.data)


def guard_full_yaml_loader() -> None:
    """Makes `yaml.Loader`, with which nerfstudio's `ns-*` commands read configs, this restricted loader.

    nerfstudio's commands import the installed method plugins (this package among them) before they
    read a config, so from then on `yaml.load(text, Loader=yaml.Loader)` in that process refuses
    code-running tags. Plain YAML loads as before.
    """
    yaml.Loader = RunConfigLoader
