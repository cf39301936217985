"""Where the style and content maps put their evidence on planted composites (docs/measurements.md).

    .venv/bin/python docs/scripts/planted_composites.py [--sizes 64 128] [--out FILE.json]

A planted composite has a known answer. Two kinds per photo x painting pair:

* ``halves``: the photo with its right half replaced by the painting (resized to the photo's size);
* ``patch``: the photo with a square of a quarter of its area, holding the whole painting resized
  to the square, pasted at a seeded random position.

Content = the photo, style = the painting. The style evidence belongs on the painted part, the
content evidence on the photo part. For every baseline ``style_content_maps`` offers, the script
computes the maps (IG, ``--n-steps``) and prints the share of each map's *positive* evidence that
lies on its right part (painted part for the style map, photo part for the content map), the
signed sum of the map there, and the loss at the baseline and at the image. It reads only the
public API, so it measures any version of the code the same way.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from xstyle import load_sample, load_vgg19
from xstyle.explain.style.maps import style_content_maps
from xstyle.images import resize_image

PAIRS = [
    ("chelsea", "starry_night"),
    ("astronaut", "great_wave"),
    ("rocket", "composition_viii"),
    ("coffee", "harvesters"),
]
#: the baselines style_content_maps offers ("zeros" is the same tensor as "black")
BASELINES = ("filler", "black", "blur", "mean", "noise")
KINDS = ("halves", "patch")


def planted(photo: torch.Tensor, painting: torch.Tensor, kind: str, *, seed: int = 0):
    """(composite (1, 3, H, W), painted mask (H, W) bool) of ``photo`` and ``painting``."""
    h, w = photo.shape[-2:]
    image, mask = photo.clone(), torch.zeros(h, w, dtype=torch.bool)
    if kind == "halves":
        image[..., w // 2 :] = resize_image(painting, (h, w))[..., w // 2 :]
        mask[:, w // 2 :] = True
        return image, mask
    side = min(h, w, round((h * w) ** 0.5 / 2))
    rng = np.random.default_rng(seed)
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    image[..., top : top + side, left : left + side] = resize_image(painting, (side, side))
    mask[top : top + side, left : left + side] = True
    return image, mask


def positive_share(evidence: torch.Tensor, part: torch.Tensor) -> float:
    """Share of the map's positive mass that lies on ``part`` (NaN when it has none)."""
    positive = evidence.double().clamp_min(0)
    total = float(positive.sum())
    return float(positive[part].sum()) / total if total > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--baselines", nargs="+", default=list(BASELINES))
    parser.add_argument("--n-steps", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    vgg = load_vgg19("caffe", last_layer="relu5_1")
    rows = []
    print(
        "size | kind | photo x painting | baseline | style: share on painted part | "
        "content: share on photo part"
    )
    for size in args.sizes:
        for photo_name, painting_name in PAIRS:
            photo, painting = load_sample(photo_name, size=size), load_sample(painting_name, size=size)
            for kind in KINDS:
                image, painted = planted(photo, painting, kind, seed=args.seed)
                for baseline in args.baselines:
                    t0 = time.perf_counter()
                    maps = style_content_maps(
                        image,
                        content=photo,
                        style=painting,
                        model=vgg,
                        baselines=baseline,
                        n_steps=args.n_steps,
                        sanity=False,
                        seed=args.seed,
                    )
                    style_map, content_map = maps.style_evidence["total"], maps.content_evidence
                    row = {
                        "size": size,
                        "kind": kind,
                        "photo": photo_name,
                        "painting": painting_name,
                        "baseline": baseline,
                        "style_share": positive_share(style_map, painted),
                        "content_share": positive_share(content_map, ~painted),
                        "style_sum_on_part": float(style_map[painted].sum()),
                        "content_sum_on_part": float(content_map[~painted].sum()),
                        "style_loss": maps.losses["style:total"],
                        "content_loss": maps.losses["content"],
                        "seconds": time.perf_counter() - t0,
                    }
                    rows.append(row)
                    print(
                        f"{size} | {kind} | {photo_name} x {painting_name} | {baseline} | "
                        f"{row['style_share']:.2f} | {row['content_share']:.2f}  "
                        f"(content loss baseline {row['content_loss']['baseline']:.3g} -> image "
                        f"{row['content_loss']['image']:.3g})",
                        flush=True,
                    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1, default=float)


if __name__ == "__main__":
    main()
