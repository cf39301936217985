"""The shipped emoji arrays and their loader: shapes, ranges, a seeded stratified split by base emoji."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xstyle.data import EMOJI_HELDOUT_FRACTION, ImageData, _emoji_path, load_emoji


@pytest.fixture(scope="module")
def emoji_all() -> ImageData:
    return load_emoji("all")


def test_shipped_arrays_are_small_with_their_provenance():
    path = _emoji_path()
    assert path.stat().st_size < 5e6
    provenance = (path.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "Apache License 2.0" in provenance and "emoji-datasource-google" in provenance


def test_all_emoji_are_rgb_32_in_range_with_nine_categories(emoji_all):
    assert emoji_all.images.shape == (3781, 3, 32, 32)
    assert emoji_all.images.dtype == torch.float32
    assert float(emoji_all.images.min()) >= -1.0 and float(emoji_all.images.max()) <= 1.0
    assert len(emoji_all.class_names) == 9 and "Flags" in emoji_all.class_names
    assert set(emoji_all.labels.tolist()) == set(range(9))
    tone = emoji_all.factors["skin_tone"]
    assert tone.shape == (3781,) and set(tone.tolist()) == set(range(7))
    # composited on white: the corners of almost every emoji are white (flags reach the edge)
    corner = emoji_all.images[:, :, 0, 0]
    assert (corner > 0.95).all(dim=1).float().mean() > 0.8


def test_split_is_disjoint_complete_stratified_and_keeps_variants_together():
    with np.load(_emoji_path()) as f:
        group = f["group"].astype(np.int64)
    train, held = load_emoji("train"), load_emoji("heldout")
    assert len(train) + len(held) == 3781
    # every category in both parts, about EMOJI_HELDOUT_FRACTION of it held out
    for k in range(9):
        n_train, n_held = int((train.labels == k).sum()), int((held.labels == k).sum())
        assert n_train > 0 and n_held > 0
        assert abs(n_held / (n_train + n_held) - EMOJI_HELDOUT_FRACTION) < 0.1

    # a base emoji and its skin-tone variants sit on one side of the split
    def keys(data: ImageData) -> list[bytes]:
        return [row.numpy().tobytes() for row in ((data.images + 1) * 127.5).round().to(torch.uint8)]

    held_keys, all_keys = set(keys(held)), keys(load_emoji("all"))
    side = np.array([k in held_keys for k in all_keys])
    split_groups = [g for g in np.unique(group) if 0 < side[group == g].mean() < 1]
    assert len(split_groups) <= 3  # only where two emoji share one picture


def test_split_is_seeded():
    a, b, c = load_emoji("heldout", seed=0), load_emoji("heldout", seed=0), load_emoji("heldout", seed=1)
    assert torch.equal(a.images, b.images)
    assert a.images.shape != c.images.shape or not torch.equal(a.images, c.images)


def test_bad_split_is_one_line():
    with pytest.raises(ValueError, match="split must be 'train', 'heldout' or 'all'; got 'test'"):
        load_emoji("test")
