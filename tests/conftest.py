"""Shared fixtures: tiny seeded models and images, the Agg backend, figures closed after each test."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from xstyle.models.vgg import load_vgg19


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def caffe_vgg():
    """The real (caffe) VGG19 truncated after relu5_1; shared, never modified by tests."""
    return load_vgg19("caffe", last_layer="relu5_1")


@pytest.fixture(scope="session")
def random_vgg():
    return load_vgg19("random", last_layer="relu5_1", seed=0)


@pytest.fixture
def tiny_images():
    """A (content, style) pair of 32x32 RGB images in [0, 1]."""
    from xstyle.data import load_sample

    return load_sample("chelsea", size=32), load_sample("starry_night", size=32)


@pytest.fixture
def rng():
    return torch.Generator().manual_seed(0)


@pytest.fixture
def expect_cli_error(tmp_path, monkeypatch, capsys):
    """Run the CLI in an empty folder; check exit 2, one `xstyle <command>: error:` line, nothing written.

    Usage: ``expect_cli_error(argv, command="transfer", match="does not exist", files={"x.png": "text"})``.
    """
    from xstyle.cli import main

    def check(argv, *, command, match, files=None):
        monkeypatch.chdir(tmp_path)
        for name, text in (files or {}).items():
            (tmp_path / name).write_text(text)
        before = sorted(p.name for p in tmp_path.iterdir())
        code = main(["-q", *argv])
        err = capsys.readouterr().err
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"xstyle {command}: error:"), err
        assert match in lines[0]
        assert "Traceback" not in err
        assert sorted(p.name for p in tmp_path.iterdir()) == before

    return check


@pytest.fixture(scope="module")
def small_digits():
    """65 training digits across all classes (every 70th of the offline sample)."""
    import torch

    from xstyle.data import DigitData, load_digits

    d = load_digits("train")
    idx = torch.arange(0, len(d), 70)
    return DigitData(d.images[idx], d.labels[idx], "small")
