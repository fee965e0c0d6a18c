"""`nerfblend-render`: drive and inspect a trained avatar.

Subcommands: reenact (another video's coefficients, paper Fig. 6), edit (coefficients set, scaled or
animated on the test frames), orbit (novel views, Fig. 11), bases (each basis, Fig. 9), compare
(ground truth beside prediction on the test split) and summary (a picture of test frames with their
PSNR and a clip driven by the test frames' coefficients).
"""

from typing import List, Optional, Union

import tyro
from typing_extensions import Annotated

from nerfblend_ns.commands.command_errors import run_reporting_errors
from nerfblend_ns.commands.render_modes.bases import Bases
from nerfblend_ns.commands.render_modes.compare import Compare
from nerfblend_ns.commands.render_modes.edit import Edit
from nerfblend_ns.commands.render_modes.orbit import Orbit
from nerfblend_ns.commands.render_modes.reenact import Reenact
from nerfblend_ns.commands.render_modes.summary import Summary

Commands = Union[
    Annotated[Reenact, tyro.conf.subcommand(name="reenact")],
    Annotated[Edit, tyro.conf.subcommand(name="edit")],
    Annotated[Orbit, tyro.conf.subcommand(name="orbit")],
    Annotated[Bases, tyro.conf.subcommand(name="bases")],
    Annotated[Compare, tyro.conf.subcommand(name="compare")],
    Annotated[Summary, tyro.conf.subcommand(name="summary")],
]


def entrypoint(args: Optional[List[str]] = None) -> None:
    """args: the command line after the program name (default: sys.argv)."""
    command = tyro.cli(Commands, args=args, description=__doc__)

    def run() -> None:
        command.check_settings()
        command.main()

    run_reporting_errors(run)


if __name__ == "__main__":
    entrypoint()
