import importlib
import tomllib
from pathlib import Path

from nerfstudio.plugins.registry import discover_methods
from nerfstudio.plugins.registry_dataparser import discover_dataparsers

from nerfblend_ns.data.nerfblend_datamanager import NerfBlendDataManagerConfig
from nerfblend_ns.dataparsers.nerfblend_dataparser import NerfBlendDataParserConfig
from nerfblend_ns.models.nerfblend_model import NerfBlendModelConfig


def test_methods_are_registered_with_their_components():
    methods, descriptions = discover_methods()
    for name in ("nerfblend", "nerfblend-small", "nerfblend-concat", "nerfblend-concat-small"):
        assert name in methods and descriptions[name]
        config = methods[name]
        assert config.method_name == name
        assert isinstance(config.pipeline.model, NerfBlendModelConfig)
        assert isinstance(config.pipeline.datamanager, NerfBlendDataManagerConfig)
        assert isinstance(config.pipeline.datamanager.dataparser, NerfBlendDataParserConfig)


def test_paper_configuration_is_the_default_method():
    model = discover_methods()[0]["nerfblend"].pipeline.model
    assert (model.grid.num_levels, model.grid.log2_hashmap_size, model.grid.features_per_level) == (16, 14, 4)
    assert (model.grid.base_resolution, model.grid.max_resolution, model.grid.init_scale) == (16, 1024, 1e-4)
    assert (model.decoder.num_layers, model.decoder.hidden_dim, model.decoder.sh_levels) == (4, 64, 4)
    assert model.occupancy.resolution == 128 and model.occupancy.expression_aware
    assert discover_methods()[0]["nerfblend"].pipeline.datamanager.frames_per_batch == 4


def test_dataparser_is_registered():
    dataparsers, descriptions = discover_dataparsers()
    assert isinstance(dataparsers["nerfblend-data"], NerfBlendDataParserConfig)
    assert descriptions["nerfblend-data"]


def test_the_paper_configuration_penalises_the_basis_tables_as_the_authors_code_does():
    assert discover_methods()[0]["nerfblend"].pipeline.model.basis_l1_weight == 1.0


def test_every_console_command_names_a_callable_entry_point():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    commands = pyproject["project"]["scripts"]
    assert set(commands) == {"nerfblend-synthetic", "nerfblend-process-video", "nerfblend-render", "nerfblend-export-mesh"}
    for command, target in commands.items():
        module_name, function_name = target.split(":")
        assert callable(getattr(importlib.import_module(module_name), function_name)), command
