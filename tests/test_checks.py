import numpy as np
import pytest
import torch
from torch import nn

from xstyle._checks import check_int, check_matrix
from xstyle.hooks import device_of


def test_check_int():
    assert check_int(np.int64(3), "n", 2) == 3 and isinstance(check_int(np.int64(3), "n", 2), int)
    for bad in (1, 2.5, True, "4", None):
        with pytest.raises(ValueError, match=f"n must be an integer >= 2; got {bad!r}"):
            check_int(bad, "n", 2)


def test_check_matrix():
    out = check_matrix(torch.ones(3, 2, dtype=torch.float32), "features")
    assert out.dtype == np.float64 and out.shape == (3, 2)
    with pytest.raises(ValueError, match=r"features must have shape \(N, D\) with N, D >= 1; got \(3,\)"):
        check_matrix(np.ones(3), "features")
    with pytest.raises(ValueError, match="features contains NaN or infinite values"):
        check_matrix([[1.0, float("nan")]], "features")


def test_device_of():
    assert device_of(nn.Linear(2, 2)) == torch.device("cpu")
    assert device_of(nn.ReLU()) == torch.device("cpu")  # no parameters
