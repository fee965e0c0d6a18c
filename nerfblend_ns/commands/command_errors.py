"""How the nerfblend commands report a refused request: one red line on stderr and exit status 2."""

from typing import Callable

from nerfblend_ns.input_errors import EXIT_STATUS, InputError, report


def run_reporting_errors(main: Callable[[], None]) -> None:
    try:
        main()
    except InputError as error:
        report(error)
        raise SystemExit(EXIT_STATUS) from None
