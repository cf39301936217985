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
