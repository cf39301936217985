"""Shared fixtures: tiny seeded models and images, the Agg backend, figures closed after each test.

Two tiers. The fast tier (``make test``) skips tests marked ``slow``; ``--run-slow`` or
``XSTYLE_TEST_ALL=1`` runs them too (``make test-all``, what CI runs). A test is slow when it is
marked so or when it uses one of the expensive fixtures in ``SLOW_FIXTURES`` (real report builds,
Ray clusters, trained classifiers and GANs, notebooks, the browser): those are marked here, so a
new test that needs one lands in the slow tier without anyone remembering to mark it.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import pytest
import torch

from xstyle.models.vgg import load_vgg19

#: fixtures whose set-up alone takes more than a few seconds on a 2-core CPU
SLOW_FIXTURES = frozenset(
    {
        "style_report",  # test_report: a real style report build
        "demo_report",  # test_report_browser: a demo report build
        "ray_engine",  # test_batch_engines: a local Ray cluster
        "quick_model",  # test_gan_classifier: a trained digit classifier
        "trained",  # test_cli_gan / test_cli_stylizer: models trained through the CLI
        "mixture_run",  # test_prior: a trained mixture-prior GAN
        "ckpts",  # test_dynamics: a run of training checkpoints
        "conditional_ckpt",  # test_gan_conditional: a trained conditional GAN
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="run the slow tier too (end-to-end tests; also XSTYLE_TEST_ALL=1)",
    )


def _run_slow(config: pytest.Config) -> bool:
    return bool(config.getoption("--run-slow")) or os.environ.get("XSTYLE_TEST_ALL", "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that use an expensive fixture ``slow``; skip the slow tier unless asked for."""
    run_slow = _run_slow(config)
    skip = pytest.mark.skip(reason="slow tier: run with --run-slow or XSTYLE_TEST_ALL=1 (make test-all)")
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if not run_slow and item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


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
