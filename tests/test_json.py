"""The JSON conversion shared by the Results' ``to_dict`` and the report writer."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from xstyle._json import field_dict, jsonable
from xstyle.report.writer import jsonable as writer_jsonable


@dataclass(frozen=True)
class _Result:
    name: str
    curve: np.ndarray
    pair: tuple[float, float]
    image: torch.Tensor
    losses: dict = field(default_factory=dict)

    @property
    def best(self) -> float:
        return float(np.nanmax(self.curve))


def _result() -> _Result:
    return _Result(
        "r", np.array([0.5, float("nan"), 2.0]), (1.0, 2.0), torch.zeros(1, 3, 2, 2), {1: math.inf}
    )


def test_jsonable_gives_strict_json_data():
    data = jsonable({"a": np.float32(0.25), "b": (1, 2), "t": torch.tensor([1.5, math.nan]), 3: Path("x/y")})
    assert data == {"a": 0.25, "b": [1, 2], "t": [1.5, None], "3": "x/y"}
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN left
    assert writer_jsonable is jsonable  # the report writer re-exports the same function


def test_field_dict_takes_every_field_in_order_but_the_skipped():
    out = field_dict(_result(), skip=("image",))
    assert list(out) == ["name", "curve", "pair", "losses"]
    assert out == {"name": "r", "curve": [0.5, None, 2.0], "pair": [1.0, 2.0], "losses": {"1": None}}


def test_field_dict_takes_named_fields_and_properties_in_the_given_order():
    out = field_dict(_result(), "best", "name")
    assert list(out) == ["best", "name"] and out == {"best": 2.0, "name": "r"}
    with pytest.raises(AttributeError):
        field_dict(_result(), "missing")


def test_field_dict_adds_extra_entries_converted_and_refuses_unknown_skips():
    out = field_dict(_result(), "name", best_of_curve=np.float64("nan"), shape=(1, 2))
    assert out == {"name": "r", "best_of_curve": None, "shape": [1, 2]}
    with pytest.raises(ValueError, match=r"skip names fields _Result does not have: \['imag'\]"):
        field_dict(_result(), skip=("imag",))
