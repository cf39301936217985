"""The report writer (escaping, paths, atomic output) and `xstyle report` end to end (--fast)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from xstyle.cli import main
from xstyle.report.writer import (
    Figure,
    Report,
    Table,
    check_inside,
    render_markdown,
    safe_name,
    save_figure,
    write_report,
)

EVIL = '<script>alert("x")</script>'


def _png(path: Path) -> Path:
    from xstyle.images import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0)), path)
    return path


def _img_sources(html: str) -> list[str]:
    return re.findall(r'<img [^>]*src="([^"]+)"', html)


# ------------------------------------------------------------------------------------------ writer


def test_writer_escapes_user_text_everywhere(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    report = Report(title=f"pair {EVIL}", summary=f"summary {EVIL}", config={"content": f"{EVIL}.png"})
    section = report.section(f"section {EVIL}", intro=f"intro {EVIL}")
    figure = save_figure(fig, tmp_path, f"../../{EVIL}", title=f"title {EVIL}", caption=f"caption {EVIL}")
    section.figure(figure)
    section.table(Table(columns=(f"col {EVIL}",), rows=((f"cell {EVIL}",),), caption=EVIL))
    section.text(f"text {EVIL}")
    write_report(report, tmp_path)

    # the name was reduced to a safe stem inside figures/
    assert figure.path.startswith("figures/") and "/" not in figure.path[len("figures/") :]
    assert (tmp_path / figure.path).is_file()
    page = (tmp_path / "index.html").read_text()
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 8  # title x2, summary, section x2, intro, caption, table, ...
    markdown = (tmp_path / "report.md").read_text()
    assert "<script" not in markdown
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["config"]["content"] == f"{EVIL}.png"  # JSON keeps the text as given


@pytest.mark.parametrize(
    "bad",
    ["../outside.png", "/etc/passwd", "figures/../../outside.png", "C:/x.png", "figures\\x.png", ""],
)
def test_figure_paths_outside_the_folder_are_refused(tmp_path, bad):
    root = tmp_path / "report"
    root.mkdir()
    _png(tmp_path / "outside.png")
    report = Report(title="t")
    report.section("s").figure(Figure(path=bad, title="t", caption="c"))
    with pytest.raises(ValueError, match="report"):
        write_report(report, root)
    assert list(root.iterdir()) == []  # nothing written


def test_symlinked_figure_leaving_the_folder_is_refused(tmp_path):
    root = tmp_path / "report"
    (root / "figures").mkdir(parents=True)
    (root / "figures" / "link.png").symlink_to(_png(tmp_path / "secret.png"))
    with pytest.raises(ValueError, match="outside the report folder"):
        check_inside(root, "figures/link.png")
    report = Report(title="t")
    report.section("s").figure(Figure(path="figures/link.png", title="t", caption="c"))
    with pytest.raises(ValueError, match="outside"):
        write_report(report, root)
    assert not (root / "index.html").exists()


def test_missing_figure_is_refused_and_safe_names(tmp_path):
    report = Report(title="t")
    report.section("s").figure(Figure(path="figures/none.png", title="t", caption="c"))
    with pytest.raises(ValueError, match="does not exist"):
        write_report(report, tmp_path)
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("...") == "figure"
    assert check_inside(tmp_path, "figures/a.png") == (tmp_path / "figures" / "a.png").resolve()


def test_markdown_and_table_formatting():
    report = Report(title="T", seed=3, config={"size": 32}, versions={"torch": "x"})
    report.section("S").table(Table(columns=("a", "b"), rows=((1.23456789, None), (float("nan"), True))))
    md = render_markdown(report)
    assert "| 1.235 | – |" in md and "| n/a | yes |" in md
    assert "Configuration, versions and run log" in md
    with pytest.raises(ValueError, match="2 cells"):
        Table(columns=("a", "b"), rows=((1,),))


# ------------------------------------------------------------------------------------ CLI errors


def test_out_pointing_at_a_file_is_refused(expect_cli_error):
    expect_cli_error(
        ["report", "style", "--fast", "--out", "x.txt"],
        command="report style",
        match="is not a folder",
        files={"x.txt": "text"},
    )


def test_out_foreign_folder_and_bad_input_are_refused(expect_cli_error, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("keep me")
    expect_cli_error(
        ["report", "style", "--fast", "--out", "notes"], command="report style", match="not written by xstyle"
    )
    expect_cli_error(
        ["report", "style", "--fast", "--out", "."], command="report style", match="current folder"
    )
    expect_cli_error(
        ["report", "style", "--fast", "--content", "missing.png", "--out", "r"],
        command="report style",
        match="missing.png",
    )
    expect_cli_error(
        ["report", "style", "--fast", "--fast-model", "shipped:nope", "--out", "r"],
        command="report style",
        match="not shipped",
    )
    expect_cli_error(
        ["report", "gan", "--fast", "--checkpoint", "none.pt", "--out", "r"],
        command="report gan",
        match="none.pt",
    )
    assert (tmp_path / "notes" / "a.txt").read_text() == "keep me"


# ------------------------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def style_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("style") / "report"
    argv = ["-q", "report", "style", "--fast", "--title", f"My {EVIL} report", "--out", str(out)]
    assert main([*argv, "--fast-model", "shipped:starry_night"]) == 0
    return out


def _check_report_folder(out: Path, *, kind: str) -> dict:
    names = sorted(p.name for p in out.iterdir())
    assert names == [".xstyle-output", "figures", "index.html", "metrics.json", "report.md"], names
    pngs = sorted((out / "figures").glob("*.png"))
    assert pngs and all(p.stat().st_size > 500 for p in pngs)
    html = (out / "index.html").read_text()
    sources = _img_sources(html)
    assert sources, "no images in index.html"
    for src in sources:
        assert not src.startswith(("/", "http", "file:")) and ".." not in src
        assert (out / src).is_file(), src
    assert {Path(s).name for s in sources} == {p.name for p in pngs}  # every PNG is shown
    md = (out / "report.md").read_text()
    assert sorted(re.findall(r"!\[[^\]]*\]\(<([^>]+)>\)", md)) == sorted(sources)
    assert html.count("<figcaption>") == len(sources)
    data = json.loads((out / "metrics.json").read_text())
    assert {"config", "versions", "seed", "metrics", "figures", "log"} <= set(data)
    assert data["seed"] == 0 and data["config"]["kind"] == kind
    assert {"xstyle", "torch", "python"} <= set(data["versions"])
    assert all(entry["status"] == "ok" for entry in data["log"])
    return data


@pytest.mark.slow
def test_style_report_fast(style_report):
    data = _check_report_folder(style_report, kind="style")
    html = (style_report / "index.html").read_text()
    assert "<script" not in html and "My &lt;script&gt;" in html
    style = data["metrics"]["style"]
    for key in (
        "transfer",
        "style_content",
        "channels",
        "gram_entries",
        "gram_spectra",
        "gram_comparison",
        "lowrank",
        "fingerprints",
        "ablation",
        "tradeoff",
        "regions",
        "summary",
        "carriers_visualised",
    ):
        assert key in style, key
    # the answer first: the style part opens with the summary figure and its table of checks
    md = (style_report / "report.md").read_text()
    assert md.index("## Where this style lives") < md.index("## Style transfer")
    assert [row[0] for row in style["summary"]["rows"]] == [
        "Which regions carry the style?",
        "Which layers carry it?",
        "Which channels?",
        "How many Gram components?",
    ]
    assert sum(style["summary"]["layer_share"].values()) == pytest.approx(1.0)
    faithful = style["regions"]["faithfulness"]
    assert style["regions"]["baselines"] == "filler" and set(faithful) == {"style", "content"}
    assert style["summary"]["checks"]["style regions"] == faithful["style"]["passed"]
    assert style["style_content"]["size"] == [48, 48]  # maps_size 48 (analysis_size 32) in the fast config
    assert data["config"]["style"]["size"] == 48 and data["config"]["style"]["content"] == "sample:astronaut"
    figures = {Path(f["path"]).stem for f in data["figures"]}
    for stem in (
        "style_summary",
        "style_regions",
        "style_region_faithfulness",
        "style_stylised",
        "style_style_content_maps",
        "style_channel_carriers",
        "style_carriers_visualised",
        "style_lowrank",
    ):
        assert stem in figures
    # what the style is made of: the fast config pictures 2 channels and 1 Gram component of relu1_1
    pictured = style["carriers_visualised"]["relu1_1"]
    assert len(pictured["channels"]["channels"]) == 2 and pictured["gram_components"]["components"] == [0]
    share = style["gram_spectra"]["spectra"]["relu1_1"]["channel_share"]
    assert pictured["channels"]["channels"] == sorted(range(len(share)), key=lambda i: -share[i])[:2]
    assert md.index("## Which channels and Gram entries") < md.index("## What this style is made of")
    assert (style_report / "figures" / "style_gram_spectrum.svg").is_file()
    assert [e["stage"] for e in data["log"]][:2] == ["load images and the network", "style transfer"]
    # --fast-model: the shipped stylizer explained on the same photo, beside the optimisation result
    fast = style["stylizer"]
    assert fast["model"] == "shipped:starry_night"
    for stem in ("output", "attribution", "discriminator", "ablation"):  # releases keep no step log
        assert f"style_stylizer_{stem}" in figures, stem
    assert data["log"][-1]["stage"] == "real-time stylizer"
    html = (style_report / "index.html").read_text()
    assert "Real-time stylizer" in html
    md = (style_report / "report.md").read_text()
    assert re.search(r"^\| stylizer \| ", md, re.M) and re.search(r"^\| optimisation \| ", md, re.M)


@pytest.mark.slow
@pytest.mark.parametrize(("painting", "shown"), [("sample:great_wave", True), ("sample:starry_night", False)])
def test_stylizer_section_compares_with_the_optimisation_only_for_its_own_painting(
    painting, shown, tmp_path, caffe_vgg
):
    from xstyle.data import load_sample
    from xstyle.report.stylizer import add_stylizer_section
    from xstyle.report.writer import Report, Table

    report = Report(title="t")
    add_stylizer_section(
        report,
        tmp_path,
        "shipped:great_wave",
        load_sample("chelsea", size=32),
        vgg=caffe_vgg,
        optimisation={"style": 1.0, "content": 2.0},
        optimisation_style=painting,
        n_steps=1,
        channels=False,
    )
    (table,) = [b for b in report.sections[0].blocks if isinstance(b, Table)]
    assert [row[0] for row in table.rows] == (["stylizer", "optimisation"] if shown else ["stylizer"])


def _tiny_checkpoint(folder, prior: str = "normal") -> str:
    """A seeded, untrained DCGAN checkpoint written by the trainer."""
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.train import GANConfig, GANTrainer

    digits = load_digits("heldout")
    trainer = GANTrainer(
        DigitData(digits.images[:8], digits.labels[:8], "tiny"),
        config=GANConfig(epochs=0, seed=0, prior=prior),
    )
    return str(trainer.save_checkpoint(folder / "gan.pt"))


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return _tiny_checkpoint(tmp_path_factory.mktemp("gan"))


@pytest.mark.slow
def test_gan_report_fast(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "gan"
    code = main(["-q", "report", "gan", "--fast", "--checkpoint", tiny_checkpoint, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    data = _check_report_folder(out, kind="gan")
    gan = data["metrics"]["gan"]
    assert {"quality", "discriminator", "latent_classes", "latent"} <= set(gan)
    assert gan["quality"]["n_samples"] == 100
    stems = {Path(f["path"]).stem for f in data["figures"]}
    assert {"gan_samples", "gan_discriminator_maps", "gan_probes", "gan_direction_similarity"} <= stems
    assert any(s.startswith("gan_traversal_") for s in stems)
    # an N(0, I) prior has no components to tell apart: no such section
    assert "prior_components" not in gan and "gan_prior_components" not in stems


@pytest.mark.slow
def test_gan_report_of_a_mixture_prior_shows_its_components(tmp_path, capsys):
    out = tmp_path / "gan"
    ckpt = _tiny_checkpoint(tmp_path, prior="mixture:3:4:1")
    code = main(["-q", "report", "gan", "--fast", "--no-sanity", "--checkpoint", ckpt, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    data = _check_report_folder(out, kind="gan")
    components = data["metrics"]["gan"]["prior_components"]
    assert components["prior"] == "mixture:3:4:1" and [sum(r) for r in components["counts"]] == [20, 20, 20]
    assert "gan_prior_components" in {Path(f["path"]).stem for f in data["figures"]}
    text = (out / "report.md").read_text()
    assert "Which digit each latent component became" in text and "component → digit" in text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("error", "code"),
    [(ValueError("bad number"), 2), (KeyboardInterrupt(), 130), (RuntimeError("boom"), None)],
)
def test_failing_builder_keeps_previous_report(tmp_path, monkeypatch, capsys, error, code):
    import xstyle.explain.style.maps as sa
    from xstyle.atomic import OUTPUT_MARKER, atomic_dir

    out = tmp_path / "report"
    with atomic_dir(out) as previous:  # a report xstyle wrote before
        (previous / "metrics.json").write_text('{"previous": true}')
        (previous / "index.html").write_text("previous report")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(sa, "style_content_maps", fail)
    argv = ["-q", "report", "style", "--fast", "--no-sanity", "--out", str(out)]
    if code is None:
        with pytest.raises(RuntimeError, match="boom"):
            main(argv)
    else:
        assert main(argv) == code
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("xstyle report"), err
    assert (out / "index.html").read_text() == "previous report"
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "index.html", "metrics.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder left


def test_report_replaces_previous_report_as_a_whole(style_report, tmp_path, monkeypatch, capsys):
    """A finished run replaces the previous report folder (no stale files remain)."""
    import shutil

    import xstyle.report.style as style_module
    from xstyle.atomic import atomic_dir

    out = tmp_path / "report"
    with atomic_dir(out) as tmp:  # a report xstyle wrote here (a copy is another folder's: refused)
        shutil.copytree(style_report, tmp, dirs_exist_ok=True)
    assert len(list((out / "figures").iterdir())) > 1

    def fake(config, *, root, progress=None, title=None):
        import matplotlib.pyplot as plt

        report = Report(title=title or "fake", seed=config.seed, config={"kind": "style"})
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        report.section("only").figure(save_figure(fig, root, "only", title="t", caption="c"))
        return report

    monkeypatch.setattr(style_module, "build_style_report", fake)
    assert main(["-q", "report", "style", "--fast", "--title", "second", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["only.png"]
    assert "second" in (out / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_flat_tradeoff_sweep_is_recognised_for_its_caption():
    from xstyle.report.style_sections import _flat

    assert _flat([2.0, 2.01, 2.015])  # --fast sweeps: three ratios, losses equal to 4 figures
    assert not _flat([2.0, 2.5, 9.0])
    assert not _flat([])
