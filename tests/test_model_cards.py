"""The README's (and docs') model numbers are the model cards' numbers, formatted as the text formats them.

The cards (``xstyle/assets/gan/*.json``, ``xstyle/assets/stylizers/*.json``) are written by the runs
that made the shipped models; the prose quotes them. A number edited in one place only fails here.
The stylizers' forward-pass times (73 / 79 ms) come from ``benchmarks/`` (docs/performance.md), not
from the cards, and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xstyle.models.shipped import shipped_models

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GAN_DOC = (ROOT / "docs" / "gan-training.md").read_text(encoding="utf-8")
STYLIZER_DOC = (ROOT / "docs" / "stylizer-training.md").read_text(encoding="utf-8")

DCGAN = shipped_models("dcgan")["dcgan"]
CLASSIFIER = shipped_models("digit-classifier")["digit-classifier"]
STYLIZERS = shipped_models("stylizer")


def _one(pattern: str, text: str, where: str) -> tuple[str, ...]:
    """The groups of the one match of ``pattern`` (whitespace in it matches any line break too)."""
    found = re.findall(pattern.replace(" ", r"\s+"), text)
    assert len(found) == 1, f"{where}: expected one match of {pattern!r}, found {len(found)}"
    return found[0] if isinstance(found[0], tuple) else (found[0],)


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f}"


def _dcgan_numbers() -> dict[str, str]:
    q = DCGAN.read_card()["metrics"]["quality_release_weights"]
    return {
        "n": f"{q['n_samples']:,}",
        "confident": f"{100 * q['confident_fraction']:.1f}",
        "inception": f"{q['inception_score']:.2f}",
        "frechet": f"{q['frechet_distance']:.1f}",
        "entropy": f"{q['balance_entropy']:.3f}",
    }


@pytest.mark.parametrize(("where", "text"), [("README.md", README), ("docs/gan-training.md", GAN_DOC)])
def test_the_dcgan_quality_quoted_is_the_cards(where, text):
    card = _dcgan_numbers()
    n, confident = _one(
        r"On ([\d,]+) samples(?: \(seed 0\))? the shipped classifier is confident "
        r"\(p ≥ 0\.9\) for \*\*([\d.]+) %\*\*",
        text,
        where,
    )
    inception = _one(r"Inception Score analogue is ([\d.]+) of a possible 10", text, where)[0]
    frechet = _one(r"of a possible 10, the Fréchet distance ([\d.]+) and", text, where)[0]
    entropy = _one(r"balanced \(normalised entropy ([\d.]+)", text, where)[0]
    quoted = {"n": n, "confident": confident, "inception": inception, "frechet": frechet, "entropy": entropy}
    assert quoted == card, f"{where} quotes {quoted}; the card says {card}"


def test_the_dcgan_release_facts_quoted_are_the_cards():
    card = DCGAN.read_card()
    epochs = _one(r"of the generator after (\d+) epochs of", README, "README.md")[0]
    decay = _one(r"\(EMA, decay ([\d.]+)\)", README, "README.md")[0]
    assert (int(epochs), float(decay)) == (card["epoch"], card["metrics"]["ema_decay"])
    assert card["metrics"]["generator_is_ema"] is True
    confident = f"{100 * card['metrics']['quality_release_weights']['confident_fraction']:.1f}"
    limitation = _one(r"trained on [\d,]+ digits only: ([\d.]+) % of its samples", README, "README.md")[0]
    assert limitation == confident
    digits = _one(r"trained on ([\d,]+) digits only", README, "README.md")[0]
    assert digits == f"{card['metrics']['data']['n']:,}"
    for where, text in [("README.md", README), ("docs/gan-training.md", GAN_DOC)]:
        size = _one(r"`xstyle/assets/gan/dcgan_mnist\.pt`, float16, ([\d.]+) MB", text, where)[0]
        assert size == _mb(DCGAN.path), where
    command = _one(r"after \d+ epochs of `(xstyle gan train [^`]+)`", GAN_DOC, "docs/gan-training.md")[0]
    assert card["metrics"]["command"].startswith(command + " ")


def test_the_dcgan_class_balance_quoted_is_the_cards():
    counts = DCGAN.read_card()["metrics"]["quality_release_weights"]["class_counts"]
    low, high, fewest, most = _one(
        r"every digit gets (\d+)–(\d+) % of the samples, (\d) the fewest, (\d) the most",
        GAN_DOC,
        "docs/gan-training.md",
    )
    shares = [100 * c / sum(counts) for c in counts]
    assert (low, high) == (f"{min(shares):.0f}", f"{max(shares):.0f}")
    assert (int(fewest), int(most)) == (counts.index(min(counts)), counts.index(max(counts)))


def test_the_classifier_quoted_is_the_cards():
    card = CLASSIFIER.read_card()
    size, accuracy = _one(
        r"`digit_classifier\.pt`, ([\d.]+) MB, ([\d.]+) % held-out accuracy", README, "README.md"
    )
    assert size == f"{CLASSIFIER.path.stat().st_size / 1e6:.2f}"
    assert accuracy == f"{100 * card['heldout_accuracy']:.1f}"


def _stylizer_row(name: str, text: str, where: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith(f"| `shipped:{name}` |")]
    assert len(rows) == 1, f"{where}: expected one table row for shipped:{name}, found {len(rows)}"
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


@pytest.mark.parametrize("name", sorted(STYLIZERS))
def test_the_readme_stylizer_table_is_the_cards(name):
    model = STYLIZERS[name]
    heldout = model.read_card()["metrics"]["heldout"]["mean"]
    _, size, style, ssim, _forward = _stylizer_row(name, README, "README.md")
    assert size == f"{_mb(model.path)} MB"
    assert style == f"{heldout['style']:.2e}".replace("e+0", "e")
    assert ssim == f"{heldout['ssim']:.2f}"


@pytest.mark.parametrize("name", sorted(STYLIZERS))
def test_the_stylizer_training_table_is_the_cards(name):
    model = STYLIZERS[name]
    card = model.read_card()
    metrics, heldout = card["metrics"], card["metrics"]["heldout"]["mean"]
    _, command, training, size, style, ssim = _stylizer_row(name, STYLIZER_DOC, "docs/stylizer-training.md")
    assert command == f"`{metrics['command']}`"
    assert training == f"{metrics['steps']} steps, {metrics['training_seconds'] / 60:.1f} min"
    assert size == f"{_mb(model.path)} MB"
    assert style == f"{heldout['style']:.2e}".replace("e+0", "e")
    assert ssim == f"{heldout['ssim']:.2f}"


CONDITIONAL = shipped_models("dcgan")["dcgan-conditional"]


def test_the_conditional_dcgan_meets_its_bars_and_the_text_quotes_its_card():
    card = CONDITIONAL.read_card()
    m, q = card["metrics"], card["metrics"]["quality_release_weights"]
    # the bars: >= 95 % confident, >= 97 % agreement with the requested digit, Fréchet distance <= 30,
    # under 10 MB, on 1,000 samples with balanced labels
    assert (
        q["n_samples"] == 1000 and q["class_counts"] and max(q["class_counts"]) - min(q["class_counts"]) < 20
    )
    assert q["confident_fraction"] >= 0.95 and q["label_agreement"] >= 0.97 and q["frechet_distance"] <= 30
    assert CONDITIONAL.path.stat().st_size < 10e6 and m["conditional"] is True and m["generator_is_ema"]
    assert m["command"].startswith("xstyle gan train --conditional ") and m["seed"] == 0
    confident, agreement, frechet = (
        f"{100 * q['confident_fraction']:.1f}",
        f"{100 * q['label_agreement']:.1f}",
        f"{q['frechet_distance']:.1f}",
    )
    for where, text in [("README.md", README), ("docs/gan-training.md", GAN_DOC)]:
        quoted = _one(
            r"confident \(p ≥ 0\.9\) for \*\*([\d.]+) %\*\*,? (?:and reads|agrees with) the requested digit "
            r"(?:for|on) \*\*([\d.]+) %\*\*,? (?:and )?the Fréchet distance (?:is )?(\d+\.\d)",
            text,
            where,
        )
        assert quoted == (confident, agreement, frechet), where
        size = _one(r"dcgan[-_]conditional(?:\.pt)?`, float16, ([\d.]+) MB", text, where)[0]
        assert size == _mb(CONDITIONAL.path)
    assert f"`{m['command']}`" in GAN_DOC and f"{m['epochs']} epochs" in GAN_DOC
