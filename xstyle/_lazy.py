"""Lazy package attributes: a package's public names imported from their modules on first access.

``__getattr__, __dir__ = lazy_attributes("xstyle.models", SOURCES, __all__, globals())`` gives a
package the two module-level functions of PEP 562, so ``import xstyle.models`` stays cheap (no
torch) and ``xstyle.models.get_network`` imports its module only when used; the value is then kept
in the package's namespace, so later lookups skip the hook.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, sources: Mapping[str, str], public: Sequence[str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(``__getattr__``, ``__dir__``) for ``package``: ``sources`` maps each lazy name to the module
    defining it; ``public`` is the package's ``__all__``; ``namespace`` its ``globals()``."""

    def __getattr__(name: str) -> Any:
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
