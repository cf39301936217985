"""Checks of the fields of a loaded checkpoint, each failing with one ``ValueError`` line (package-internal).

A file with the right format tag can still hold a string where a number belongs, NaN weights, a
state dict of other shapes or a history that is not a list of dicts. The loaders check every field
they use with a :class:`CheckpointFields` before using it, so such a file is refused with one line
naming the file, the field and what was expected, e.g.::

    checkpoint 'x.pt' field 'config.batch_size' must be an integer; got 'abc'; give a .pt file
    written by `xstyle gan train`.

:func:`config_kwargs` checks a dict of settings against a config dataclass's field types (the
configs' ``from_dict``); its :class:`FieldError` names the field, and the loaders add the file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar

import torch
from torch import nn

from xstyle.safeload import load_tagged_state

__all__ = [
    "MISSING",
    "CheckpointFields",
    "FieldError",
    "FileKind",
    "SavedConfigMixin",
    "config_kwargs",
    "describe",
    "expected_state",
]

#: Stands for a field that is not in the file (``state.get(name, MISSING)``).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
_MAX_INT = 2**63 - 1  # what a torch seed or an int64 can hold
_MAX_ITEMS = 64  # entries of a variable-length tuple setting (layer names, channel widths)
_MAX_DEPTH = 8  # nesting of free-form JSON metadata
_NAMES = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}


def describe(value: Any, *, limit: int = 40) -> str:
    """A short one-line description of a value for an error message (repr of scalars, else its type)."""
    if value is MISSING:
        return "nothing (the field is missing)"
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if value is None or isinstance(value, (bool, int, float, str)):
        text = repr(value)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    n = len(value) if isinstance(value, (list, tuple, dict)) else None
    size = "" if n is None else f" of {n} item" + ("" if n == 1 else "s")
    return f"a {type(value).__name__}{size}"


class FieldError(ValueError):
    """A setting of the wrong type: ``"<field> must be <expected>; got <value>."`` (one line)."""

    def __init__(self, field: str, expected: str, value: Any) -> None:
        self.field, self.expected, self.value = field, expected, value
        super().__init__(f"{field} must be {expected}; got {describe(value)}.")


def _typed(value: Any, tp: Any, field: str) -> Any:
    """``value`` checked against the type annotation ``tp`` (lists become tuples); FieldError if not."""
    args = typing.get_args(tp)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        try:
            return _typed(value, options[0], field)
        except FieldError as err:
            if err.field != field or len(options) == len(args):
                raise
            raise FieldError(field, f"{err.expected} or None", value) from None
    if tp is bool:
        if not isinstance(value, bool):
            raise FieldError(field, "true or false", value)
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_INT:
            raise FieldError(field, "an integer", value)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise FieldError(field, "a finite number", value)
    elif tp is str:
        if not isinstance(value, str):
            raise FieldError(field, "a string", value)
    elif typing.get_origin(tp) is tuple:
        variadic = len(args) == 2 and args[1] is Ellipsis
        count = "" if variadic else f"{len(args)} "
        expected = f"a list of {count}{_NAMES.get(args[0], 'values')}"
        if not isinstance(value, (list, tuple)) or (
            len(value) > _MAX_ITEMS if variadic else len(value) != len(args)
        ):
            raise FieldError(field, expected, value)
        kinds = [args[0]] * len(value) if variadic else args
        return tuple(_typed(v, k, f"{field}[{i}]") for i, (v, k) in enumerate(zip(value, kinds, strict=True)))
    elif dataclasses.is_dataclass(tp) and not isinstance(value, tp):
        return tp(**config_kwargs(tp, value, name=field))
    return value


def config_kwargs(cls: type, data: Any, *, name: str = "config") -> dict[str, Any]:
    """The settings in ``data`` that are fields of the dataclass ``cls``, checked against their types.

    ``data`` must be a dict with string keys; other keys are left out (settings of newer versions).
    Lists become tuples where the field is a tuple; a nested config dataclass is built from its dict.
    Raises :class:`FieldError` (a ValueError) naming the first setting of a wrong type, e.g.
    ``config.lr_g must be a finite number; got 'abc'.`` Ranges are the dataclass's own checks.
    """
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise FieldError(name, f"a dict of {cls.__name__} settings", data)
    hints = typing.get_type_hints(cls)
    return {
        f.name: _typed(data[f.name], hints[f.name], f"{name}.{f.name}")
        for f in dataclasses.fields(cls)
        if f.name in data
    }


class SavedConfigMixin:
    """Mixin of a frozen config dataclass that checkpoints save: :meth:`to_dict` writes its settings,
    :meth:`from_dict` reads them back checked (:func:`config_kwargs`, messages naming ``_dict_name``)."""

    _dict_name: ClassVar[str] = "config"

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (nested configs as dicts)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]  # subclasses are dataclasses

    @classmethod
    def from_dict(cls: type[_Saved], data: Any) -> _Saved:
        """The config of a dict of settings (unknown keys ignored, nested configs from their dicts); a
        setting of a wrong type is a one-line ValueError naming it (``config.lr_g must be a finite
        number; got 'abc'.``)."""
        return cls(**config_kwargs(cls, data, name=cls._dict_name))


_Saved = TypeVar("_Saved", bound=SavedConfigMixin)


def expected_state(build: Callable[[], nn.Module]) -> dict[str, torch.Tensor]:
    """The state dict (names, shapes, dtypes) of the module ``build()`` makes, built on the meta
    device: no memory is allocated, however large the architecture a file asks for."""
    with torch.device("meta"):
        return build().state_dict()


class CheckpointFields:
    """Check the fields of one loaded file; every failure is one ValueError line naming the file.

    Args:
        path: the file, as the messages name it.
        what: how the messages name the file, e.g. ``"checkpoint"``.
        made_by: the command that writes such files, e.g. ``"xstyle gan train"``.
    """

    def __init__(self, path: str | os.PathLike, *, what: str, made_by: str) -> None:
        self.where = f"{what} {str(Path(path))!r}"
        self.hint = f"give a .pt file written by `{made_by}`."

    def fail(self, field: str, expected: str, value: Any = MISSING, *, got: str | None = None) -> NoReturn:
        """Raise ``<file> field '<field>' must be <expected>; got <value>; give ...``."""
        shown = got if got is not None else describe(value)
        raise ValueError(f"{self.where} field {field!r} must be {expected}; got {shown}; {self.hint}")

    def integer(self, value: Any, field: str, *, low: int = 0, high: int = _MAX_INT) -> int:
        """An int (not a bool) in ``[low, high]``."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bound = f"between {low} and {high}" if high < _MAX_INT else f">= {low}"
            self.fail(field, f"an integer {bound}", value)
        return value

    def number(
        self, value: Any, field: str, *, low: float | None = 0.0, optional: bool = False
    ) -> float | None:
        """A finite int or float (not a bool) ``>= low`` (no bound: None), or None when ``optional``."""
        if value is None and optional:
            return None
        expected = (
            "a finite number" + ("" if low is None else f" >= {low:g}") + (" or None" if optional else "")
        )
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or (low is not None and value < low)
        ):
            self.fail(field, expected, value)
        return float(value)

    def config(self, cls: type, value: Any, field: str = "config") -> Any:
        """``cls`` built from the settings dict ``value`` (its ``from_dict``), bad settings named."""
        try:
            return cls.from_dict(value)
        except FieldError as err:
            self.fail(field + err.field.removeprefix("config"), err.expected, err.value)
        except (ValueError, TypeError) as err:  # a range check of the config itself
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0].rstrip(".")
            raise ValueError(
                f"{self.where} field {field!r} holds a bad setting ({reason}); {self.hint}"
            ) from None

    def tensor(self, value: Any, field: str, *, like: torch.Tensor) -> torch.Tensor:
        """A dense tensor of the dtype and shape of ``like`` (e.g. a random generator's state)."""
        if not isinstance(value, torch.Tensor) or value.layout != torch.strided or value.dtype != like.dtype:
            self.fail(field, f"a {str(like.dtype).removeprefix('torch.')} tensor", value)
        if value.shape != like.shape:
            self.fail(field, f"a tensor of shape {tuple(like.shape)}", value)
        return value

    def state_dict(
        self, value: Any, field: str | None, expected: Mapping[str, torch.Tensor], *, kind: str
    ) -> dict[str, torch.Tensor]:
        """A state dict with exactly ``expected``'s names and shapes, float where it has floats, finite.

        ``field`` is None when the whole file is the state dict (a classifier). Missing names,
        unexpected names and other shapes give ``... does not match <kind> (missing fc.weight; ...)``.
        """
        prefix = f"{field}." if field else ""
        if not isinstance(value, Mapping):
            self.fail(field or "(the file)", "a state dict (tensor names -> tensors)", value)
        for key, tensor in value.items():
            if not (
                isinstance(key, str) and isinstance(tensor, torch.Tensor) and tensor.layout == torch.strided
            ):
                self.fail(f"{prefix}{key}", "a dense tensor", tensor)
        problems = _state_mismatch(expected, value)
        if problems:
            at = f" field {field!r}" if field else ""
            raise ValueError(f"{self.where}{at} does not match {kind} ({'; '.join(problems)}); {self.hint}")
        for key, tensor in value.items():
            want = expected[key]
            if tensor.is_floating_point() != want.is_floating_point() or (
                not want.is_floating_point() and tensor.dtype != want.dtype
            ):
                kind_of = "a floating-point" if want.is_floating_point() else f"a {want.dtype}"
                self.fail(f"{prefix}{key}", f"{kind_of} tensor", tensor)
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                self.fail(f"{prefix}{key}", "a tensor of finite values", got="NaN or infinite values")
        return dict(value)

    def records(self, value: Any, field: str) -> list[dict[str, int | float]]:
        """A list of dicts of finite numbers, each with an integer ``"epoch"`` >= 1 (a history)."""
        if not isinstance(value, (list, tuple)):
            self.fail(field, "a list of dicts of numbers", value)
        for i, entry in enumerate(value):
            if not isinstance(entry, Mapping) or not all(isinstance(k, str) for k in entry):
                self.fail(f"{field}[{i}]", "a dict of numbers", entry)
            self.integer(entry.get("epoch", MISSING), f"{field}[{i}].epoch", low=1)
            for key, number in entry.items():
                self.number(number, f"{field}[{i}].{key}", low=None)
        return [dict(entry) for entry in value]

    def json_value(self, value: Any, field: str, *, depth: int = 0) -> Any:
        """A JSON value (dicts with string keys, lists, strings, finite numbers, booleans, None)."""
        if depth > _MAX_DEPTH:
            self.fail(field, f"JSON data nested at most {_MAX_DEPTH} deep", value)
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail(field, "a dict with string keys", got=f"the key {describe(key)}")
                self.json_value(item, f"{field}.{key}", depth=depth + 1)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                self.json_value(item, f"{field}[{i}]", depth=depth + 1)
        elif isinstance(value, float) and not math.isfinite(value):
            self.fail(field, "a finite number", value)
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            self.fail(field, "JSON data (text, numbers, lists, dicts)", value)
        return value

    def adam_state(self, value: Any, field: str, params: Sequence[torch.Tensor], reference: Mapping) -> dict:
        """An Adam ``state_dict()`` for ``params`` like ``reference`` (a fresh Adam's) in layout.

        Checks the parameter groups (same parameter indices; settings of the reference's types) and
        the per-parameter moments (of each parameter's shape, finite).
        """
        if not isinstance(value, Mapping) or not isinstance(value.get("param_groups"), (list, tuple)):
            self.fail(field, "an optimiser state (a dict with 'state' and 'param_groups')", value)
        groups, ref_groups = value["param_groups"], reference["param_groups"]
        if len(groups) != len(ref_groups):
            self.fail(f"{field}.param_groups", f"a list of {len(ref_groups)} groups", groups)
        for i, (group, ref) in enumerate(zip(groups, ref_groups, strict=True)):
            where = f"{field}.param_groups[{i}]"
            if not isinstance(group, Mapping) or group.get("params") != ref["params"]:
                first, last = ref["params"][0], ref["params"][-1]
                self.fail(where, f"the settings of the parameters {first} to {last}", group)
            for key, default in ref.items():
                if key not in group:
                    continue  # a setting of a newer torch: load_state_dict fills in its default
                setting, name = group[key], f"{where}.{key}"
                if isinstance(default, bool) or default is None:
                    if not (isinstance(setting, bool) or (setting is None and default is None)):
                        self.fail(name, "true or false" + (" or None" if default is None else ""), setting)
                elif isinstance(default, (int, float)):
                    self.number(setting, name)
                elif isinstance(default, tuple):
                    if not isinstance(setting, (list, tuple)) or len(setting) != len(default):
                        self.fail(name, f"a list of {len(default)} numbers", setting)
                    for j, item in enumerate(setting):
                        self.number(item, f"{name}[{j}]")
        moments = value.get("state")
        if not isinstance(moments, Mapping):
            self.fail(f"{field}.state", "a dict of per-parameter states", moments)
        for index, entry in moments.items():
            where = f"{field}.state[{index!r}]"
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(params):
                self.fail(where, f"the state of a parameter index in [0, {len(params)})", got=describe(index))
            if not isinstance(entry, Mapping) or not {"step", "exp_avg", "exp_avg_sq"} <= set(entry):
                self.fail(where, "a dict with 'step', 'exp_avg' and 'exp_avg_sq'", entry)
            for key, tensor in entry.items():
                shape = () if key == "step" else tuple(params[index].shape)
                if not (
                    isinstance(tensor, torch.Tensor)
                    and tensor.is_floating_point()
                    and tuple(tensor.shape) == shape
                ):
                    self.fail(f"{where}.{key}", f"a floating-point tensor of shape {shape}", tensor)
                if not bool(torch.isfinite(tensor).all()):
                    self.fail(f"{where}.{key}", "a tensor of finite values", got="NaN or infinite values")
        return dict(value)

    def resume_state(
        self, state: Mapping[str, Any], *, optimisers: Mapping[str, nn.Module], generators: Sequence[str]
    ) -> None:
        """The fields only a trainer checkpoint holds, for a resume: each optimiser's Adam state (for
        the parameters of its module) and the CPU random-generator states (uint8 tensors)."""
        for name, module in optimisers.items():
            params = list(module.parameters())
            reference = torch.optim.Adam(params).state_dict()
            self.adam_state(state.get(name, MISSING), name, params, reference)
        cpu_state = torch.Generator().get_state()
        for name in generators:
            self.tensor(state.get(name, MISSING), name, like=cpu_state)


def _state_mismatch(expected: Mapping[str, torch.Tensor], got: Mapping[str, torch.Tensor]) -> list[str]:
    """Short descriptions of missing names, unexpected names and other shapes (empty when they match)."""

    def names(keys: list[str]) -> str:
        return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")

    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [
        f"{k} is {tuple(got[k].shape)}, expected {tuple(v.shape)}"
        for k, v in expected.items()
        if k in got and got[k].shape != v.shape
    ]
    out = []
    if missing:
        out.append(f"missing {names(missing)}")
    if unexpected:
        out.append(f"unexpected {names(unexpected)}")
    return out + shapes[:3]


@dataclasses.dataclass(frozen=True)
class FileKind:
    """A kind of file xstyle writes and reads back, as its error messages name it.

    Attributes:
        what: how messages name the file, e.g. ``"checkpoint"``.
        kind: what the file should be, e.g. ``"an xstyle DCGAN checkpoint"``.
        made_by: the command that writes such files, e.g. ``"xstyle gan train"``.
        formats: the ``"format"`` tags such a file may carry.
    """

    what: str
    kind: str
    made_by: str
    formats: tuple[str, ...]

    def open(
        self, path: str | os.PathLike, *, map_location: str | torch.device = "cpu"
    ) -> tuple[dict[str, Any], CheckpointFields]:
        """Load ``path`` safely (:func:`~xstyle.safeload.load_tagged_state`: ``weights_only=True``,
        its ``"format"`` tag one of ``formats``); return its state and the checker of its fields."""
        state = load_tagged_state(
            path,
            formats=self.formats,
            what=self.what,
            kind=self.kind,
            made_by=self.made_by,
            map_location=map_location,
        )
        return state, CheckpointFields(path, what=self.what, made_by=self.made_by)
