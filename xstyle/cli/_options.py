"""Declaring the ``xstyle`` commands and their options: torch-free, used by every command group.

An option is one ``_option`` call whose help writes its default itself (so the text cannot drift from
the value); a command is ``_add_command`` (its parser, run by one function) inside an ``_add_group``.
"""

from __future__ import annotations

import argparse


def _shown(value: object) -> str:
    """A default as ``--help`` writes it: 1e-4 and 0.9 as one would type them, a sequence
    comma-separated (None in it: ``full``, the ranks' word for no truncation)."""
    if isinstance(value, tuple | list):
        return ",".join("full" if v is None else _shown(v) for v in value)
    if isinstance(value, float):
        plain = repr(value).removesuffix(".0")
        mantissa, _, exponent = f"{value:e}".partition("e")
        sci = f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
        return sci if "e" in plain or len(sci) < len(plain) else plain
    return str(value)


def _option(
    p,
    flags: str | tuple[str, ...],
    type=None,
    default: object = None,
    help: str = "",
    *,
    shown: str | None = None,
    **kwargs,
) -> argparse.Action:
    """``p.add_argument`` of one option whose help ends in ``(default SHOWN)``: SHOWN is the default
    as ``_shown`` writes it, or ``shown`` where given (a default of None shows nothing without it);
    with no ``help`` the help is ``default SHOWN`` alone. ``kwargs``: the other ``add_argument``
    keywords (``metavar``, ``choices``, ``dest``, ...)."""
    if shown is None and default is not None:
        shown = _shown(default)
    if shown is not None:
        help = f"{help} (default {shown})" if help else f"default {shown}"
    if type is not None:
        kwargs["type"] = type
    flags = (flags,) if isinstance(flags, str) else flags
    return p.add_argument(*flags, default=default, help=help, **kwargs)


def _add_command(sub, name: str, func, help: str, **kwargs) -> argparse.ArgumentParser:
    """A sub-command parser ``name`` (``sub.add_parser``; ``kwargs``: description, ...) that runs ``func``."""
    p = sub.add_parser(name, help=help, **kwargs)
    p.set_defaults(func=func)
    return p


def _add_group(sub, name: str, help: str, *, metavar: str | None = None, **kwargs):
    """A command group ``xstyle NAME SUB ...``: returns the sub-parsers to add its commands to. The
    choice is stored as ``<name>_command`` (what ``_command_name`` reads)."""
    dest = f"{name}_command"
    group = sub.add_parser(name, help=help, **kwargs)
    return group.add_subparsers(dest=dest, metavar=metavar or dest.upper(), required=True)


def _pick(args: argparse.Namespace, *names: str) -> dict[str, object]:
    """The options ``names`` of ``args`` as keywords (for a config whose fields share their names)."""
    return {name: getattr(args, name) for name in names}
