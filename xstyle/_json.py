"""JSON-ready values: the one conversion shared by every Result's ``to_dict`` and the report writer."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

__all__ = ["field_dict", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` as strict JSON data: tensors and arrays to lists, NaN/inf to None, keys to str."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return jsonable(value.tolist())
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return str(value)


def field_dict(obj: Any, *names: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{name: jsonable(obj.name)}`` for ``names`` in that order (attributes and properties alike);
    without ``names``, every dataclass field of ``obj`` in declaration order but those in ``skip``."""
    if not names:
        names = tuple(f.name for f in fields(obj) if f.name not in skip)
    return {name: jsonable(getattr(obj, name)) for name in names}
