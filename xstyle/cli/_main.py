"""``main(argv)``: parse, check sizes up front, run the command, map errors to exit codes."""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from xstyle import __version__
from xstyle.atomic import DiskFullError, releasing_output_locks
from xstyle.cli import batch, explain, gan, models, probe, report, stylizer, transfer
from xstyle.cli._args import (
    UsageError,
    _check_size_options,
    _command_name,
    _Parser,
    _positive_int,
    _size_options,
    _usage_line,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xstyle`` (exposed for documentation and tests)."""
    parser = _Parser(
        prog="xstyle",
        description="Explain neural style transfer and GANs. Images are paths or sample:NAME "
        "(see `xstyle samples`).",
    )
    parser.add_argument("--version", action="version", version=f"xstyle {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what runs")
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        dest="torch_threads",
        metavar="N",
        help="torch threads of this command (default: the cores no other process keeps busy, at least "
        "1; two threads beside a busy process run slower than one)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (transfer, models, gan, explain, report, probe, stylizer, batch):
        group.add_parsers(sub)
    return parser


def _interrupted_note(args: argparse.Namespace) -> str:
    """What an interrupted command left behind: training keeps its checkpoints, the rest writes nothing."""
    if _command_name(args) not in ("gan train", "stylizer train"):
        return "nothing was written."
    saved = sorted(Path(args.out).glob("epoch_*.pt")) if Path(args.out).is_dir() else []
    if not saved:
        return "no checkpoint was written yet."
    return f"the checkpoints written so far stay in {args.out}; continue with --resume {saved[-1]}"


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an allocation failure: MemoryError, torch's OutOfMemoryError, or the
    RuntimeError torch's CPU allocator raises (checked by name and message: no torch import here)."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        marker in text
        for marker in ("DefaultCPUAllocator: can't allocate memory", "not enough memory", "out of memory")
    )


def _out_of_memory_line(args: argparse.Namespace, exc: BaseException) -> str:
    """``xstyle <command>: error: out of memory (...); make <its size options> smaller``."""
    command = _command_name(args)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(detail) > 120:
        detail = detail[:117] + "..."
    flags = list(dict.fromkeys(f for f, _, need, _ in _size_options(command) if not isinstance(need, int)))
    if not flags:
        return f"xstyle {command}: error: out of memory ({detail}); free some memory or use smaller inputs."
    listed = f"{', '.join(flags[:-1])} or {flags[-1]}" if len(flags) > 1 else flags[0]
    return f"xstyle {command}: error: out of memory ({detail}); make {listed} smaller."


# OSErrors that mean a bad path (exit 2, like any bad input) rather than a failing machine (exit 1)
_PATH_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EACCES, errno.EPERM, errno.EROFS}
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    # the --out checks lock their folders while the arguments are parsed: none outlives the command
    with releasing_output_locks():
        return _parse_and_run(argv)


def _parse_and_run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    # -q/-v are top-level flags; accept them after the command too (`xstyle transfer ... -q`)
    args.quiet = args.quiet or any(a in ("-q", "--quiet") for a in extra)
    args.verbose = args.verbose or any(a in ("-v", "--verbose") for a in extra)
    extra = [a for a in extra if a not in ("-q", "--quiet", "-v", "--verbose")]
    threads_parser = _Parser(prog=f"xstyle {_command_name(args)}", add_help=False)
    threads_parser.add_argument("--threads", type=_positive_int, default=None, dest="torch_threads")
    try:
        later, extra = threads_parser.parse_known_args(extra)  # --threads after the command too
    except SystemExit as exc:
        return int(exc.code or 0)
    args.torch_threads = later.torch_threads or args.torch_threads
    if extra:
        print(
            _usage_line(f"xstyle {_command_name(args)}", f"unrecognized arguments: {' '.join(extra)}"),
            file=sys.stderr,
        )
        return 2
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from xstyle._threads import busy_cores, passive_waiting

    busy = busy_cores()  # cores other processes keep busy, sampled before torch starts
    # beside a busy process OpenMP threads sleep instead of spinning (set before torch is imported)
    with passive_waiting(when=busy > 0):
        return _run(args, busy=busy)


def _run(args: argparse.Namespace, *, busy: int) -> int:
    """Run the parsed command; map errors to one line and an exit code."""
    # after parsing: --help, --version and usage errors answer without importing torch
    from xstyle.images import ImageError
    from xstyle.models.vgg import WeightsError

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    import matplotlib

    matplotlib.use("Agg")  # commands write figures to files, never to a window
    import torch

    from xstyle._threads import configure_threads

    caller_threads = torch.get_num_threads()  # restored on the way out (main() may run in-process)
    try:
        _check_size_options(args)  # a size the machine cannot hold: one line now, not an OOM later
        configure_threads(threads=args.torch_threads, busy=busy)
        return args.func(args)
    except (UsageError, ImageError, WeightsError, ValueError, FloatingPointError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"xstyle {_command_name(args)}: error: {message}", file=sys.stderr)
        # a diverged training run (FloatingPointError) is not bad input: exit 1, not 2
        return 1 if isinstance(exc, FloatingPointError) else 2
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        # exit 1, not 2: the sizes passed the up-front estimate, so it is this machine's memory
        # (other programs, a tight container) that ran short, not the input that was wrong
        print(_out_of_memory_line(args, exc), file=sys.stderr)
        return 1
    except OSError as exc:  # a path checked up front changed, a full disk, a lost mount...
        if isinstance(exc, DiskFullError):  # one line of its own: where, what, how much to free
            print(f"xstyle {_command_name(args)}: error: {exc}", file=sys.stderr)
            return 1
        where = f" {exc.filename!r}" if exc.filename else ""
        print(
            f"xstyle {_command_name(args)}: error: could not read or write{where}: "
            f"{exc.strerror or exc}; check the path and free space, then run it again.",
            file=sys.stderr,
        )
        return 2 if exc.errno in _PATH_ERRNOS else 1
    except KeyboardInterrupt:
        print(f"xstyle {_command_name(args)}: interrupted; {_interrupted_note(args)}", file=sys.stderr)
        return 130
    finally:
        torch.set_num_threads(caller_threads)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
