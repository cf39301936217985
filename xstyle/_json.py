"""JSON-ready values: strict JSON data from tensors, arrays and Results (the report writer's
conversion), and ``field_dict``, which builds a Result's ``to_dict`` from its fields."""

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


def field_dict(obj: Any, *names: str, skip: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """``{name: jsonable(obj.name)}`` for ``names`` in that order (attributes and properties alike);
    without ``names``, every dataclass field of ``obj`` in declaration order but those in ``skip``.
    ``extra`` entries follow, converted the same way (computed or renamed values)."""
    if not names:
        declared = [f.name for f in fields(obj)]
        unknown = sorted(set(skip) - set(declared))
        if unknown:
            raise ValueError(f"skip names fields {type(obj).__name__} does not have: {unknown}.")
        names = tuple(n for n in declared if n not in skip)
    out = {name: jsonable(getattr(obj, name)) for name in names}
    return out | {key: jsonable(value) for key, value in extra.items()}
