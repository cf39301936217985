"""``xstyle models``: list what can be named wherever a model is chosen.

The feature networks (``--network``, ``network=``) with their default layers and licence, the
generators (``--checkpoint``, ``get_generator``), the classifiers that score them (``--classifier``)
and the real-time stylizers (``--model``), all read from :mod:`xstyle.models`.
"""

from __future__ import annotations

import argparse

from xstyle.cli._options import _add_command

__all__ = ["add_parsers"]

#: what --kind takes, in the order the sections are printed
KINDS: tuple[str, ...] = ("network", "generator", "classifier", "stylizer")

_INDENT = " " * 24


def _row(name: str, text: str) -> str:
    """``  NAME  text``, the name padded to one column (a longer name pushes its text to the next line)."""
    if len(name) > len(_INDENT) - 3:
        return f"  {name}\n{_INDENT}{text}"
    return f"  {name:<{len(_INDENT) - 2}}{text}"


def _network_lines() -> list[str]:
    from xstyle.models import NetworkError, get_network_spec, list_networks, network_defaults

    lines = ["networks (--network SPEC; network= in Python):"]
    for name in list_networks():
        spec = get_network_spec(name)
        lines.append(_row(name, spec.description or spec.family))
        try:
            content, style = network_defaults(name)
            layers = f"content {', '.join(content)}; style {', '.join(style)}"
        except NetworkError as exc:  # a network that cannot be built here (a missing package)
            layers = str(exc)
        offline = "offline" if spec.offline else "needs a download once"
        lines += [f"{_INDENT}default layers: {layers}", f"{_INDENT}licence: {spec.license}; {offline}"]
    lines.append(
        "  also: shipped:vgg19-caffe (= vgg19-caffe), torchvision:NAME (any torchvision classifier), "
        "package.module:callable or DIR:entry (your own)"
    )
    return lines


def _shipped_lines(kind: str, heading: str, names: list[str], also: str | None) -> list[str]:
    from xstyle.models.shipped import shipped_model

    lines = [heading]
    for name in names:
        lines.append(_row(name, shipped_model(name, kind).description))
    if not names:
        lines.append("  (none in this install)")
    if also:
        lines.append(f"  also: {also}")
    return lines


def _generator_lines() -> list[str]:
    import xstyle.gan  # noqa: F401 - registers the shipped DCGANs as generators
    from xstyle.models import list_generators

    return _shipped_lines(
        "dcgan",
        "generators (--checkpoint SPEC; get_generator(SPEC) in Python):",
        list_generators(),
        "PATH.pt (an xstyle checkpoint), package.module:callable or DIR:entry (your own)",
    )


def _classifier_lines() -> list[str]:
    from xstyle.models.shipped import shipped_models

    names = [m.spec for m in shipped_models("digit-classifier").values()]
    return _shipped_lines(
        "digit-classifier",
        "classifiers (--classifier SPEC):",
        names,
        "PATH.pt (`xstyle gan train-classifier`)",
    )


def _stylizer_lines() -> list[str]:
    from xstyle.models.shipped import shipped_models

    names = [m.spec for m in shipped_models("stylizer").values()]
    also = "model.pt or epoch_NNNN.pt (`xstyle stylizer train`)"
    return _shipped_lines("stylizer", "stylizers (xstyle stylizer apply|explain --model SPEC):", names, also)


def _cmd_models(args: argparse.Namespace) -> int:
    sections = {
        "network": _network_lines,
        "generator": _generator_lines,
        "classifier": _classifier_lines,
        "stylizer": _stylizer_lines,
    }
    chosen = [args.kind] if args.kind else list(KINDS)
    print("\n\n".join("\n".join(sections[kind]()) for kind in chosen))
    return 0


def add_parsers(sub) -> None:
    """Register ``xstyle models``."""
    p = _add_command(
        sub,
        "models",
        _cmd_models,
        "list the networks, generators, classifiers and stylizers that can be named",
        description="List what can be named wherever a model is chosen: the feature networks (with "
        "their default layers and licence), the shipped generators, classifiers and real-time "
        "stylizers (shipped:NAME), and the other forms each option takes.",
    )
    p.add_argument("--kind", choices=KINDS, help="list only one kind")
