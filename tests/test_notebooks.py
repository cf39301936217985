"""Execute every notebook in notebooks/ (nbclient) in its small configuration; check they are stripped.

``XSTYLE_NOTEBOOK_FAST=1`` shrinks sizes and steps; ``XSTYLE_NOTEBOOK_CHECKPOINT`` points the latent
notebook at a tiny seeded DCGAN checkpoint written here (the tests need no shipped GAN).
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))

nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev extra: pip install -e '.[dev]'")


def test_three_notebooks_exist_with_outputs_stripped():
    assert [p.name for p in NOTEBOOKS] == [
        "01_style_vs_content.ipynb",
        "02_gram_spectra.ipynb",
        "03_latent_directions.ipynb",
        "04_networks.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[-1].cell_type == "markdown"
        source = "\n".join(c.source for c in code)
        assert "XSTYLE_NOTEBOOK_FAST" in source
        # the public API only: no private names from xstyle
        assert "import _" not in source and "xstyle._" not in source and "._" not in source.replace("__", "")
        # latents come from the checkpoint's own prior (draw_latents), never from a fixed N(0, I)
        assert "torch.randn" not in source, path.name


def test_the_build_script_writes_exactly_the_committed_notebooks(tmp_path, monkeypatch):
    """notebooks/_build_notebooks.py is the source: rebuilding gives the committed files byte for
    byte, so an edit to one and not the other fails here."""
    folder = NOTEBOOKS[0].parent
    monkeypatch.syspath_prepend(str(folder))
    import _build_notebooks

    written = _build_notebooks.build(tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in NOTEBOOKS]
    for path in written:
        assert path.read_bytes() == (folder / path.name).read_bytes(), path.name


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.train import GANConfig, GANTrainer

    digits = load_digits("heldout")
    trainer = GANTrainer(
        DigitData(digits.images[:8], digits.labels[:8], "tiny"),
        config=GANConfig(epochs=0, seed=0, prior="mixture:10:4:1"),  # the shipped DCGAN's kind of prior
    )
    return str(trainer.save_checkpoint(tmp_path_factory.mktemp("nb") / "gan.pt"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch, tiny_checkpoint):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev extra: pip install -e '.[dev]'")
    pytest.importorskip("ipykernel", reason="ipykernel is a dev extra: pip install -e '.[dev]'")
    monkeypatch.setenv("XSTYLE_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("XSTYLE_NOTEBOOK_CHECKPOINT", tiny_checkpoint)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    # the on-disk notebook stays stripped: execution happened on a copy in memory
    assert not any(c.outputs for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
