"""Built-in demo data: a procedural 3D head rendered into a tracked workspace."""

from nerfblend_ns.synthetic.cli import SyntheticConfig, write_synthetic_workspace

__all__ = ["SyntheticConfig", "write_synthetic_workspace"]
