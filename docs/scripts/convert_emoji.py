"""Convert Google's Noto emoji (npm ``emoji-datasource-google``) into xstyle's shipped 32x32 arrays.

Run once, by a maintainer, with the npm package unpacked somewhere (the install and the tests never
need npm); the output is ``xstyle/assets/emoji/emoji32.npz`` (read by :func:`xstyle.data.load_emoji`)::

    cd /tmp && npm pack emoji-datasource-google@16.0.0 && mkdir emoji && tar xzf \\
        emoji-datasource-google-16.0.0.tgz -C emoji
    python docs/scripts/convert_emoji.py /tmp/emoji/package xstyle/assets/emoji/emoji32.npz

What it does: every emoji of ``emoji.json`` with a Google image (``has_img_google``), and every
skin-tone variant of it with one, is read from ``img/google/64/`` (64x64 RGBA PNG), composited on
white (alpha over a white background, at 64x64), and shrunk to 32x32 by averaging 2x2 blocks
(Pillow's ``reduce(2)``). The label is the emoji's Unicode category (``category`` in emoji.json);
the "Component" category (the five bare skin-tone swatches, and hair components when they have
images) is left out: too few to be a class. The skin tone is 0 for an emoji without a skin-tone
modifier, 1..5 for the five Fitzpatrick modifiers U+1F3FB..U+1F3FF (one tone throughout, e.g.
``1F3FD`` or ``1F3FD-1F3FD``), and 6 for a sequence of two different tones. ``group`` is the index
of the base emoji a variant belongs to, so a split can keep an emoji and its variants together.

Output arrays (``numpy.savez_compressed``): ``images`` uint8 (N, 32, 32, 3); ``category`` int8 (N,)
indexing ``categories``; ``skin_tone`` int8 (N,); ``group`` int16 (N,); ``short_name`` and
``unified`` str (N,); ``categories`` str (K,); ``source`` str (the package and version).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

SKIN_TONES = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")
LEFT_OUT = ("Component",)
SIZE = 32


def skin_tone(key: str | None) -> int:
    """0: no modifier; 1..5: one Fitzpatrick tone throughout; 6: two different tones."""
    if key is None:
        return 0
    tones = set(key.split("-"))
    return SKIN_TONES.index(tones.pop()) + 1 if len(tones) == 1 else 6


def to_rgb32(path: Path) -> np.ndarray:
    """A 64x64 RGBA PNG composited on white and averaged to (32, 32, 3) uint8."""
    rgba = Image.open(path).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    factor = rgb.size[0] // SIZE
    if rgb.size != (SIZE * factor, SIZE * factor):
        raise ValueError(f"{path}: expected a square image of a multiple of {SIZE} pixels; got {rgb.size}.")
    return np.asarray(rgb.reduce(factor), dtype=np.uint8)


def convert(package: Path, out: Path) -> dict[str, int]:
    meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
    entries = json.loads((package / "emoji.json").read_text(encoding="utf-8"))
    entries = sorted(
        (e for e in entries if e.get("has_img_google") and e["category"] not in LEFT_OUT),
        key=lambda e: e["sort_order"],
    )
    categories = sorted({e["category"] for e in entries})
    images, category, tone, group, names, codes = [], [], [], [], [], []
    folder = package / "img" / "google" / "64"
    for g, entry in enumerate(entries):
        variants = [(None, entry)] + [
            (key, v) for key, v in sorted(entry.get("skin_variations", {}).items()) if v.get("has_img_google")
        ]
        for key, v in variants:
            images.append(to_rgb32(folder / v["image"]))
            category.append(categories.index(entry["category"]))
            tone.append(skin_tone(key))
            group.append(g)
            names.append(entry["short_name"] + (f":{key.lower()}" if key else ""))
            codes.append(v["unified"])
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        images=np.stack(images),
        category=np.asarray(category, dtype=np.int8),
        skin_tone=np.asarray(tone, dtype=np.int8),
        group=np.asarray(group, dtype=np.int16),
        short_name=np.asarray(names),
        unified=np.asarray(codes),
        categories=np.asarray(categories),
        source=np.asarray(f"npm {meta['name']}@{meta['version']} (Noto Emoji images, img/google/64)"),
    )
    counts = np.bincount(np.asarray(category), minlength=len(categories))
    return {name: int(c) for name, c in zip(categories, counts, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="the unpacked npm package (holds emoji.json, img/)")
    parser.add_argument("out", type=Path, help="the .npz to write")
    args = parser.parse_args()
    counts = convert(args.package, args.out)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({sum(counts.values())} images, {size:.2f} MB):")
    for name, count in counts.items():
        print(f"  {name:<20} {count}")


if __name__ == "__main__":
    main()
