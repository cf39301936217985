"""Every ```python block of README.md runs as written (but for the documented shrinking below).

Each block is executed in a fresh namespace inside an empty temporary working folder, so the files
it writes (``chelsea_wave.png``, ``losses.png``, ``runs/gan/...``) land there. Blocks whose README
settings take minutes (a 256 px transfer, 100 training epochs, 2,000 latents) are shrunk by the
textual substitutions in ``SUBSTITUTIONS`` and nothing else (smaller sizes, steps, epochs, sample
counts; the calls stay the README's); each substitution must match exactly the number of times it
says, so the table cannot silently stop applying when the README changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# (README text, replacement, expected number of matches in README.md's python blocks, why).
_TINY = 'config=TransferConfig(size=32, steps=(2,), optimizer="adam")'
SUBSTITUTIONS: list[tuple[str, str, int, str]] = [
    ("size=256, steps=(120,)", "size=32, steps=(3,)", 1, "a 256 px, 120-evaluation transfer"),
    ("epochs=100", "epochs=1", 1, "100 DCGAN training epochs"),
    ('load_digits("train")', 'load_digits("heldout")', 1, "DCGAN and scorer on 500 digits, not 4,500"),
    ("size=128", "size=32", 3, "the attribution example's 128 px images"),
    ("steps=(60,)", "steps=(2,)", 1, "60 L-BFGS evaluations before the attribution"),
    ("n_steps=32", "n_steps=2", 1, "32 integrated-gradient steps"),
    # the Gram example's ablation and trade-off run their default 128 px, 30-step stylisations
    ("from xstyle import load_sample\n", "from xstyle import TransferConfig, load_sample\n", 1, "for _TINY"),
    (
        '"sample:starry_night", layer="relu3_1")',
        f'"sample:starry_night", layer="relu3_1", {_TINY})',
        1,
        "a 2-step, 32 px stylisation before the channel ablation",
    ),
    (
        'tradeoff_sweep("sample:chelsea", "sample:starry_night")',
        f'tradeoff_sweep("sample:chelsea", "sample:starry_night", {_TINY})',
        1,
        "2-step, 32 px stylisations along the trade-off",
    ),
    ("n=2000", "n=300", 1, "2,000 generated digits for the latent probes"),
]

# Blocks that are fragments, not programs, by their first line; none at present.
SKIP: dict[str, str] = {}

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def _shrink(code: str) -> str:
    for old, new, _count, _why in SUBSTITUTIONS:
        code = code.replace(old, new)
    return code


def test_readme_has_python_blocks():
    assert len(_blocks()) >= 5


def test_substitution_table_is_honest():
    """Every substitution matches the README exactly as often as the table says."""
    code = "\n".join(block for _line, block in _blocks())
    for old, _new, count, why in SUBSTITUTIONS:
        assert code.count(old) == count, f"substitution {old!r} ({why}) matches {code.count(old)}x"
    for first_line in SKIP:
        assert any(block.startswith(first_line) for _line, block in _blocks()), first_line


_CASES = [pytest.param(line, code, id=f"line{line}") for line, code in _blocks()]


@pytest.fixture
def one_thread():
    """One torch thread while a block runs: on a shared 2-core machine two threads per job run
    several times slower (the README's Limits); the caller's setting is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.parametrize(("line", "code"), _CASES)
def test_readme_python_block_runs(line, code, tmp_path, monkeypatch, one_thread):
    first = code.splitlines()[0] if code.strip() else ""
    if first in SKIP:
        pytest.skip(SKIP[first])
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    exec(compile(_shrink(code), f"README.md (block at line {line})", "exec"), namespace)
