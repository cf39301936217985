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


def test_check_finite_epoch_names_the_bad_losses():
    from xstyle._checks import check_finite_epoch

    check_finite_epoch({"epoch": 3, "d_loss": 0.7, "seconds": float("inf")}, epoch=3, hint="h.")
    with pytest.raises(FloatingPointError, match=r"training diverged in epoch 3 \(g_loss nan\); lower it\."):
        check_finite_epoch({"d_loss": 0.7, "g_loss": float("nan")}, epoch=3, hint="lower it.")


@pytest.mark.parametrize(
    ("message", "limit", "expected"),
    [
        ("short", 100, "short"),
        ("first line\nsecond line", 100, "first line"),
        (
            "failed finding central directory. This is an internal error, please report it",
            50,
            "failed finding central directory.",
        ),
        ("aaaa bbbb cccc dddd eeee", 12, "aaaa bbbb..."),
        ("x" * 30, 10, "x" * 10 + "..."),
    ],
)
def test_first_line_cuts_long_messages_at_a_sentence_or_word(message, limit, expected):
    from xstyle.safeload import first_line

    assert first_line(RuntimeError(message), limit=limit) == expected
    assert first_line(RuntimeError(""), limit=limit) == "RuntimeError"
