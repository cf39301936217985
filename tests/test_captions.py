"""Report titles and captions are data (xstyle/report/captions.py): every entry is used, every call
gives exactly the fields its templates need, and no section writes its prose inline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xstyle.report
from xstyle.report.captions import TEXTS, fields, text

REPORT = Path(xstyle.report.__file__).parent


def _calls() -> list[tuple[str, int, str, set[str]]]:
    """(file, line, key, keyword names) of every text("key", ...) call in the report package, and of
    every save(figure, name, "key", ...) call (the report's figure saver, which passes its keywords
    but ``svg`` to text)."""
    found = []
    for path in sorted(REPORT.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = getattr(node.func, "id", None)
            if func == "text":
                key, given = node.args[0], {k.arg for k in node.keywords}
                if None in given and isinstance(key, ast.Name):  # the saver's text(key, **fields)
                    continue
            elif func == "save" and len(node.args) == 3:
                key, given = node.args[2], {k.arg for k in node.keywords} - {"svg"}
            else:
                continue
            assert isinstance(key, ast.Constant), f"{path.name}:{node.lineno}: a text key must be a literal"
            found.append((path.name, node.lineno, key.value, given))
    return found


def test_every_call_names_an_entry_with_exactly_its_fields():
    calls = _calls()
    assert len(calls) >= len(TEXTS)
    for file, line, key, given in calls:
        assert key in TEXTS, f"{file}:{line}: unknown report text {key!r}"
        assert given == fields(key), (
            f"{file}:{line}: {key!r} needs {sorted(fields(key))}, gets {sorted(given)}"
        )


def test_every_entry_is_used():
    used = {key for _, _, key, _ in _calls()}
    assert set(TEXTS) - used == set()


def test_no_section_writes_caption_prose_inline():
    """Titles and captions come from text(...) (or a parameter passed through), never a string or
    f-string written in the section (section headings and intros stay in the code)."""
    entries = ("save_figure", "save_image_figure", "Table")
    for path in sorted(REPORT.glob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(call, "func", None), "id", None)
            if not isinstance(call, ast.Call) or name not in entries or path.name == "writer.py":
                continue
            for node in call.keywords:
                assert node.arg not in ("caption", "title"), (
                    f"{path.name}:{node.value.lineno}: {name}'s {node.arg} belongs in captions.py"
                )


def test_text_fills_values_and_refuses_wrong_ones():
    texts = text("style.lowrank", steps=20, size=64)
    assert set(texts) == {"title", "caption"}
    assert "20" in texts["caption"] and "64" in texts["caption"] and "{" not in texts["caption"]
    assert text("style.ablation", layer="relu3_1")["title"].endswith("(relu3_1)")
    with pytest.raises(TypeError, match=r"takes \['size', 'steps'\]"):
        text("style.lowrank", steps=20)
    with pytest.raises(KeyError, match=r"no report text 'style\.nope'"):
        text("style.nope")
