"""The ``xstyle`` command line. ``main(argv)`` returns an exit code: 0 ok, 2 bad input, 130 interrupted.

Subcommands call the public API only. User errors print one line (``xstyle: error: ...``) on
stderr, write nothing and exit with 2.

One module per command group (``transfer``, ``gan``, ``explain``, ``probe``, ``report``,
``stylizer``), each with ``add_parsers(sub)`` and its ``_cmd_*`` functions; shared argument types and
checks live in ``_args``, and ``_main`` parses, dispatches and maps errors to exit codes. Nothing
here imports torch: the commands import the library when they run, so ``--help`` is quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    from xstyle.cli._main import main as _main

    return _main(argv)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xstyle`` (exposed for documentation and tests)."""
    from xstyle.cli._main import build_parser as _build_parser

    return _build_parser()
