"""The collection report over a batch folder (xstyle/report/collection.py), on synthetic batch folders
that follow the batch format (batch.json, items/<id>/result.json with its files, failed/<id>.json),
and the writer's additions it uses: Link cells and script-free sortable tables."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from xstyle.report.collection import build_collection_report, consensus_carriers
from xstyle.report.writer import Link, Report, Table, render_html, render_markdown, write_report

LAYERS = ("relu1_1", "relu2_1")
SHARED, UNIQUE = 500, 777  # planted carrier channels


# ------------------------------------------------------------------------------ synthetic batches


def _png(path: Path, seed: int, size: int = 24) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)


def _batch(
    root: Path,
    collection: str,
    items: list[dict],
    *,
    done: dict[str, dict],
    failed: dict[str, str] | None = None,
    files: dict[str, dict[str, bytes | None]] | None = None,
) -> Path:
    """Write a batch folder: batch.json listing ``items``, a result folder per ``done`` id (numbers)
    with ``files`` (name -> bytes, or None for a random PNG) and failed/<id>.json per ``failed`` id."""
    failed = failed or {}
    files = files or {}
    by_id = {item["id"]: item for item in items}
    for n, (item_id, numbers) in enumerate(done.items()):
        folder = root / "items" / item_id
        folder.mkdir(parents=True)
        result = {
            **by_id[item_id],
            "seed": 1000 + n,
            "seconds": 1.5 + n,
            "worker": "host:1",
            "numbers": numbers,
        }
        (folder / "result.json").write_text(json.dumps(result))
        for k, (name, data) in enumerate(files.get(item_id, {}).items()):
            if data is None:
                _png(folder / name, seed=10 * n + k)
            else:
                (folder / name).write_bytes(data)
    for item_id, error in failed.items():
        (root / "failed").mkdir(parents=True, exist_ok=True)
        entry = {**by_id[item_id], "error": error, "seconds": 0.3}
        (root / "failed" / f"{item_id}.json").write_text(json.dumps(entry))
    left = len(items) - len(done) - len(failed)
    meta = {
        "format": "xstyle-batch/1",
        "collection": collection,
        "settings": {"size": 64, "steps": 20, "seed": 7, "weights": "caffe"},
        "items": items,
        "engine": {"name": "local", "workers": 2, "threads": 1},
        "versions": {"xstyle": "0.0", "torch": "2.0"},
        "summary": {"done": len(done), "failed": len(failed), "left": left, "seconds": 42.0},
    }
    (root / "batch.json").write_text(json.dumps(meta))
    return root


def _pairs_batch(root: Path) -> Path:
    """2 contents x 2 styles: cat__wave and cat__starry done, chelsea__wave failed, chelsea__starry left."""
    contents = {"cat": "photos/cat.jpg", "chelsea": "sample:chelsea"}
    styles = {"wave": "art/wave.png", "starry": "sample:starry"}
    items = [
        {"id": f"{c}__{s}", "kind": "pair", "inputs": {"content": content, "style": style}}
        for c, content in contents.items()
        for s, style in styles.items()
    ]

    def numbers(share: float) -> dict:
        return {
            "content_loss": 1.0,
            "style_loss": 2.0,
            "total": 3.0 + share,
            "style_share": share,
            "content_ssim": 1 - share,
            "style_evidence_share": share / 2,
            "size_hw": [24, 24],
        }

    # cat__wave has its maps' verdicts; cat__starry comes from a batch that recorded none
    done = {
        "cat__wave": {**numbers(0.7), "map_verdict": {"style": "uniform", "content": "localised"}},
        "cat__starry": numbers(0.2),
    }
    return _batch(
        root,
        "pairs",
        items,
        done=done,
        failed={"chelsea__wave": "ValueError: style 'art/wave.png' is not a readable image\nTraceback..."},
        files={i: {"stylised.png": None, "maps.png": None} for i in done},
    )


def _fingerprint(seed: int, group: int) -> bytes:
    import io

    rng = np.random.default_rng(seed)
    vector = (rng.normal(size=40) + 4 * group).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, vector)
    return buf.getvalue()


def _paintings_batch(root: Path) -> Path:
    """4 paintings; channel SHARED is a top-8 carrier of p0, p1, p2 in every layer, UNIQUE only of p3."""
    items = [{"id": f"p{j}", "kind": "painting", "inputs": {"painting": f"art/p{j}.jpg"}} for j in range(4)]
    done = {}
    for j in range(4):
        planted = SHARED if j < 3 else UNIQUE
        filler = [10 * j + c for c in range(1, 8)]  # channels no other painting has
        carriers = {layer: [[planted, 0.2], *([c, 0.05] for c in filler)] for layer in LAYERS}
        done[f"p{j}"] = {
            "spectra": {
                layer: {"participation_ratio": 2.0 + j + k, "components_for_90": 3 + j, "top_share": 0.4}
                for k, layer in enumerate(LAYERS)
            },
            "carriers": carriers,
            "fingerprint_layers": list(LAYERS),
        }
    files = {
        f"p{j}": {"painting.png": None, "spectrum.png": None, "fingerprint.npy": _fingerprint(j, j // 2)}
        for j in range(4)
    }
    return _batch(root, "paintings", items, done=done, files=files)


def _checkpoints_batch(root: Path) -> Path:
    """3 checkpoints listed out of epoch order (5, 1, 3); one has no label agreement."""
    epochs = {"late": 5, "early": 1, "middle": 3}
    items = [
        {"id": name, "kind": "checkpoint", "inputs": {"checkpoint": f"runs/{name}.pt"}} for name in epochs
    ]
    done = {
        name: {
            "epoch": epoch,
            "confident_fraction": 0.1 * epoch,
            "frechet_distance": 50.0 / epoch,
            "inception_score": 1 + epoch,
            "label_agreement": None if name == "early" else 0.5 + 0.05 * epoch,
            "probe_accuracy": {"z": 0.3, "block1": 0.5 + 0.05 * epoch, "image": 0.9},
        }
        for name, epoch in epochs.items()
    }
    return _batch(root, "checkpoints", items, done=done, files={n: {"samples.png": None} for n in done})


def _references(report_dir: Path) -> list[str]:
    """Every href and src of index.html and every link and image target of report.md."""
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    refs = [html.unescape(r) for r in re.findall(r'(?:href|src)="([^"]*)"', page)]
    refs += re.findall(r"\]\(<([^>]*)>\)", markdown)
    return refs


def _check_references(report_dir: Path) -> list[str]:
    refs = _references(report_dir)
    files = [r for r in refs if not r.startswith("#")]
    assert files
    for ref in files:
        assert not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", ref) and not ref.startswith("/"), ref
        target = (report_dir / unquote(ref)).resolve()
        assert target.is_file(), ref
    return files


def _metrics(report_dir: Path) -> dict:
    return json.loads((report_dir / "metrics.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ pairs


def test_pairs_report(tmp_path):
    batch = _pairs_batch(tmp_path / "batch")
    events = []
    out = build_collection_report(batch, progress=events.append)
    assert out == batch / "report"
    for name in ("index.html", "report.md", "metrics.json"):
        assert (out / name).is_file(), name
    assert (out / "figures" / "contact_sheet.png").is_file()
    refs = _check_references(out)
    assert sum(r.endswith("result.json") for r in refs) == 4  # 2 done pairs, in HTML and Markdown
    assert "../items/cat__wave/result.json" in refs

    data = _metrics(out)
    m = data["metrics"]
    assert m["counts"] == {"items": 4, "done": 2, "failed": 1, "left": 1, "unreadable": 0}
    assert m["left"] == ["chelsea__starry"]
    assert m["pairs"]["contents"] == ["photos/cat.jpg", "sample:chelsea"]
    assert m["pairs"]["grid"][1] == ["chelsea__wave", "chelsea__starry"]
    assert set(m["pairs"]["items"]) == {"cat__wave", "cat__starry"}
    assert m["pairs"]["items"]["cat__wave"]["style_share"] == pytest.approx(0.7)
    assert m["pairs"]["items"]["cat__wave"]["map_verdict"] == "uniform / localised"
    assert m["pairs"]["items"]["cat__starry"]["map_verdict"] is None
    assert [f["id"] for f in m["failed"]] == ["chelsea__wave"]
    assert m["failed"][0]["error"] == "ValueError: style 'art/wave.png' is not a readable image"
    assert data["seed"] == 7 and data["config"]["kind"] == "collection"

    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page
    failed_table = page[page.index("Failed items</h2>") :]
    assert "chelsea__wave" in failed_table and "not a readable image" in failed_table
    assert "Traceback" not in page  # one line per error
    assert 'class="sortable"' in page and "sample:chelsea" in page
    pairs_table = page[page.index("Every stylised pair") :]
    assert "map verdict (style / content)" in pairs_table and "uniform / localised" in pairs_table
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| chelsea\\_\\_wave |" in markdown or "| chelsea__wave |" in markdown

    stages = [e.stage for e in events if e.kind == "end"]
    assert stages[0] == "read batch" and len(stages) == events[0].n_stages
    assert all(entry["status"] == "ok" for entry in data["log"])

    # written again over its own output (allowed), refused over a folder holding a user's file
    assert build_collection_report(batch) == out
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"notes\.txt"):
        build_collection_report(batch)
    assert (out / "notes.txt").read_text() == "mine"


def test_report_elsewhere_links_back_into_the_batch(tmp_path):
    batch = _pairs_batch(tmp_path / "data" / "batch")
    out = build_collection_report(batch, out=tmp_path / "reports" / "collection")
    refs = _check_references(out)
    assert "../../data/batch/items/cat__wave/result.json" in refs
    assert not (batch / "report").exists()


def test_not_a_batch_folder_is_one_clear_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no batch\.json") as err:
        build_collection_report(tmp_path / "empty")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "empty" / "report").exists()
    (tmp_path / "empty" / "batch.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a batch description"):
        build_collection_report(tmp_path / "empty")
    (tmp_path / "empty" / "batch.json").write_text(
        json.dumps({"format": "xstyle-batch/1", "items": [{"id": "../x", "kind": "pair", "inputs": {}}]})
    )
    with pytest.raises(ValueError, match="item id"):
        build_collection_report(tmp_path / "empty")


def test_temporary_and_unreadable_item_folders(tmp_path):
    batch = _pairs_batch(tmp_path / "batch")
    (batch / "items" / ".cat__x.xs-abc-1-r.tmp").mkdir()  # an item being written: ignored
    (batch / "items" / "cat__starry" / "result.json").write_text("{not json")
    out = build_collection_report(batch)
    m = _metrics(out)["metrics"]
    assert m["counts"]["done"] == 1 and m["counts"]["unreadable"] == 1
    assert m["unreadable"] == {"cat__starry": "result.json is not readable JSON (JSONDecodeError)"}
    assert {f["id"] for f in m["failed"]} == {"chelsea__wave", "cat__starry"}
    _check_references(out)


# -------------------------------------------------------------------------------------- paintings


def test_paintings_report(tmp_path):
    batch = _paintings_batch(tmp_path / "batch")
    out = build_collection_report(batch)
    _check_references(out)
    assert (out / "figures" / "style_atlas.png").is_file()
    assert (out / "figures" / "consensus_carriers.png").is_file()
    m = _metrics(out)["metrics"]
    assert m["counts"] == {"items": 4, "done": 4, "failed": 0, "left": 0, "unreadable": 0}

    atlas = m["atlas"]
    assert atlas["k"] == 3
    assert set(atlas["clusters"]) == {"p0", "p1", "p2", "p3"}
    assert set(atlas["clusters"].values()) == {0, 1, 2}
    assert len(atlas["coords"]["p0"]) == 2 and len(atlas["explained_variance_ratio"]) == 2
    # deterministic: the same clusters again
    again = build_collection_report(batch, out=tmp_path / "again")
    assert _metrics(again)["metrics"]["atlas"]["clusters"] == atlas["clusters"]

    consensus = m["consensus"]
    assert consensus["threshold"] == 2 and consensus["n_paintings"] == 4
    for layer in LAYERS:
        part = consensus["layers"][layer]
        assert [(e["channel"], e["count"], e["paintings"]) for e in part["shared"]] == [
            (SHARED, 3, ["p0", "p1", "p2"])
        ]
        unique = {e["channel"]: e["painting"] for e in part["unique"]}
        assert unique[UNIQUE] == "p3" and SHARED not in unique
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert re.search(rf"\| relu1\\?_1 \| {SHARED} \| 3 \| shared \(3 of 4\) \|", markdown)
    assert re.search(rf"\| relu2\\?_1 \| {UNIQUE} \| 1 \| unique to p3\.jpg \|", markdown)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "PR relu1_1" in page and "top carrier relu2_1" in page and "c500 (20.0 %)" in page


def test_consensus_needs_half_and_at_least_two():
    two = {"a": {"l": [(1, 0.5), (2, 0.1)]}, "b": {"l": [(1, 0.3), (3, 0.1)]}}
    result = consensus_carriers(two, layers=["l"])
    assert result["threshold"] == 2
    assert [e["channel"] for e in result["layers"]["l"]["shared"]] == [1]
    assert result["layers"]["l"]["shared"][0]["mean_share"] == pytest.approx(0.4)
    assert {e["channel"]: e["painting"] for e in result["layers"]["l"]["unique"]} == {2: "a", 3: "b"}


def test_atlas_with_one_fingerprint_says_so(tmp_path):
    batch = _paintings_batch(tmp_path / "batch")
    for j in range(1, 4):
        (batch / "items" / f"p{j}" / "fingerprint.npy").write_bytes(b"broken")
    out = build_collection_report(batch)
    atlas = _metrics(out)["metrics"]["atlas"]
    assert atlas["paintings"] == ["p0"] and set(atlas["skipped"]) == {"p1", "p2", "p3"}
    assert not (out / "figures" / "style_atlas.png").exists()
    assert "at least two paintings" in (out / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------ checkpoints


def test_checkpoints_report(tmp_path):
    batch = _checkpoints_batch(tmp_path / "batch")
    out = build_collection_report(batch)
    _check_references(out)
    assert (out / "figures" / "checkpoint_curves.png").is_file()
    curves = _metrics(out)["metrics"]["checkpoints"]
    assert curves["epochs"] == [1, 3, 5]
    assert curves["ids"] == ["early", "middle", "late"]
    assert curves["frechet_distance"] == pytest.approx([50.0, 50 / 3, 10.0])
    assert curves["label_agreement"][0] is None
    assert list(curves["probe_accuracy"]) == ["z", "block1", "image"]
    assert curves["probe_accuracy"]["block1"] == pytest.approx([0.55, 0.65, 0.75])
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "probe block1" in page and "Contact sheet" not in page and "Style atlas" not in page


def test_checkpoints_without_any_measure_get_a_table_and_no_curves(tmp_path):
    items = [{"id": n, "kind": "checkpoint", "inputs": {"checkpoint": f"runs/{n}.pt"}} for n in ("a", "b")]
    batch = _batch(tmp_path / "batch", "checkpoints", items, done={"a": {"epoch": 1}, "b": {"epoch": 2}})
    out = build_collection_report(batch)
    _check_references(out)
    assert not (out / "figures" / "checkpoint_curves.png").exists()
    curves = _metrics(out)["metrics"]["checkpoints"]
    assert curves["epochs"] == [1, 2] and curves["frechet_distance"] == [None, None]
    assert "Checkpoints: quality over training" in (out / "index.html").read_text(encoding="utf-8")


# ----------------------------------------------------------------------- writer: links and sorting


@pytest.mark.parametrize(
    "bad", ["", "/etc/passwd", "javascript:alert(1)", "http://x.org/a", "a\\b.json", "a\nb", "C:/x"]
)
def test_link_refuses_what_is_not_a_relative_path(bad):
    with pytest.raises(ValueError, match="relative path"):
        Link("x", bad)


def test_links_must_exist_inside_the_allowed_folder(tmp_path):
    (tmp_path / "items" / "a").mkdir(parents=True)
    (tmp_path / "items" / "a" / "result.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("")
    report_dir = tmp_path / "sub" / "report"
    report_dir.mkdir(parents=True)

    def write(href: str, inside: Path | None) -> None:
        report = Report(title="t")
        report.section("s").table(Table(columns=("item",), rows=((Link("a", href),),)))
        write_report(report, report_dir, links_inside=inside)

    write("../../items/a/result.json", tmp_path)
    page = (report_dir / "index.html").read_text()
    assert '<a href="../../items/a/result.json">a</a>' in page
    assert "[a](<../../items/a/result.json>)" in (report_dir / "report.md").read_text()
    (report_dir / "index.html").unlink()
    with pytest.raises(ValueError, match="outside"):
        write("../../items/a/result.json", None)  # default: inside the report folder only
    with pytest.raises(ValueError, match="outside"):
        write("../../../x.txt", tmp_path)
    with pytest.raises(ValueError, match="points to nothing"):
        write("../../items/b/result.json", tmp_path)
    assert not (report_dir / "index.html").exists()  # nothing written


def test_link_text_and_href_are_escaped():
    evil = '<script>alert("x")</script>'
    table = Table(columns=(evil,), rows=((Link(evil, 'a"b <c>.json'),),), sortable=True)
    report = Report(title="t")
    report.section("s").table(table)
    page, markdown = render_html(report), render_markdown(report)
    assert "<script" not in page and "<script" not in markdown
    assert 'href="a%22b%20%3Cc%3E.json"' in page
    assert "(<a%22b%20%3Cc%3E.json>)" in markdown


def test_sortable_table_is_script_free_with_ranks():
    rows = (("b", 2.0, None), ("a10", None, 1), ("a2", 1.0, 1))
    report = Report(title="t")
    report.section("s").table(Table(columns=("name", "x", "y"), rows=rows, sortable=True))
    report.section("u").table(Table(columns=("k",), rows=(("v",),)))  # a plain table stays plain
    page = render_html(report)
    assert "<script" not in page and page.count('class="sortable"') == 1
    styles = re.findall(r'<tr style="([^"]+)">', page)
    ranks = [dict(re.findall(r"--(\w+):(\d+)", s)) for s in styles]
    # name: natural order a2 < a10 < b; x: None last both ways; y: ties keep the table order
    assert [r["a0"] for r in ranks] == ["2", "1", "0"] and [r["d0"] for r in ranks] == ["0", "1", "2"]
    assert [r["a1"] for r in ranks] == ["1", "2", "0"] and [r["d1"] for r in ranks] == ["0", "2", "1"]
    assert [r["a2"] for r in ranks] == ["2", "0", "1"] and [r["d2"] for r in ranks] == ["2", "0", "1"]
    assert ".sortable>input.sa2:checked~table td{order:var(--a2)}" in page
    assert ".sa3" not in page  # rules only for the columns there are


# --------------------------------------------------------------------------------------- browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = os.environ.get("XSTYLE_CHROMIUM") or next(
    (path for name in BROWSERS if (path := shutil.which(name))), None
)

# clicks a header label of the first sortable table, then records the order the rows are shown in
SORT_PROBE = """
<script>
window.addEventListener("load", () => {
  const table = document.querySelector(".sortable table");
  const heads = Array.from(table.querySelectorAll("th"));
  const column = heads.findIndex((th) => th.textContent.includes("style share"));
  const shown = () => Array.from(table.querySelectorAll("tbody tr"))
    .map((tr) => [tr.children[column].getBoundingClientRect().top, tr.children[column].textContent])
    .sort((a, b) => a[0] - b[0]).map((p) => p[1]).join(" ");
  const before = shown();
  table.querySelectorAll("th")[column].querySelector("label.la").click();
  const up = shown();
  table.querySelectorAll("th")[column].querySelector("label.ld").click();
  const down = shown();
  document.body.setAttribute("data-sorted", [before, up, down].join("|"));
});
</script>
"""


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="no Chromium binary on PATH (or XSTYLE_CHROMIUM)")
def test_table_sorts_on_header_click_in_chromium(tmp_path):
    batch = _pairs_batch(tmp_path / "batch")
    out = build_collection_report(batch)
    probe = out / "_sort_check.html"
    probe.write_text((out / "index.html").read_text().replace("</body>", SORT_PROBE + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
    done = subprocess.run(
        [BROWSER, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-sorted="([^"]*)"', done.stdout)
    assert found is not None, done.stdout[:2000]
    before, up, down = found.group(1).split("|")
    assert before == "0.7 0.2" and up == "0.2 0.7" and down == "0.7 0.2"
