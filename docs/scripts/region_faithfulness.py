"""Measure the region faithfulness test on several content x style pairs (docs/measurements.md).

    .venv/bin/python docs/scripts/region_faithfulness.py [--size 256] [--out FILE.json]

For each pair: stylise with the default schedule at ``--size``, compute the style and content maps
with the fillers as baselines (style: the photo, content: a blur of the stylised image), sum them
over 64 SLIC regions and run the insertion test of both maps against 20 random orders. Prints one
line per pair and map; writes every number to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import skimage.data
import torch

from xstyle import TransferConfig, load_sample, load_vgg19, resize_image, style_transfer
from xstyle.explain.style.faithfulness import explain_regions
from xstyle.explain.style.maps import style_content_maps

PAIRS = [
    ("sample:astronaut", "sample:starry_night"),
    ("sample:chelsea", "sample:great_wave"),
    ("sample:rocket", "sample:composition_viii"),
    # not among the samples: scikit-image's immunohistochemistry slide as the "painting"
    ("sample:coffee", "skimage:immunohistochemistry"),
]


def _image(spec: str, size: int) -> torch.Tensor:
    if spec.startswith("sample:"):
        return load_sample(spec[7:], size=size)
    array = getattr(skimage.data, spec.split(":", 1)[1])()[..., :3]
    image = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)[None].float() / 255
    return resize_image(image, size)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--n-steps", type=int, default=12)
    parser.add_argument("--out", default=None)
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="measure the first N pairs only")
    parser.add_argument("--figure", default=None, help="save the first pair's figure here (e.g. .jpg)")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    vgg = load_vgg19("caffe", last_layer="relu5_1")
    rows = []
    for content_spec, style_spec in PAIRS[: args.pairs]:
        t0 = time.perf_counter()
        content, style = _image(content_spec, args.size), _image(style_spec, args.size)
        stylised = style_transfer(content, style, config=TransferConfig(size=args.size), model=vgg).image
        maps = style_content_maps(
            stylised,
            content=content,
            style=style,
            model=vgg,
            baselines="filler",
            n_steps=args.n_steps,
            sanity=False,
        )
        result = explain_regions(maps, model=vgg, style=style)
        row = {
            "content": content_spec,
            "style": style_spec,
            "seconds": time.perf_counter() - t0,
            **result.to_dict(),
        }
        rows.append(row)
        if args.figure and len(rows) == 1:
            result.plot().figure_.savefig(args.figure, dpi=90)
        for test in (result.style_test, result.content_test):
            print(
                f"{content_spec} x {style_spec}: {test.verdict_line()}; "
                f"loss filler {test.losses['filler']:.4g} -> image {test.losses['image']:.4g}"
            )
        print(
            f"  style dominates {100 * result.regions.style_share:.0f} % of the area "
            f"({len(result.regions.style)} {result.regions.method} regions), {row['seconds']:.0f} s"
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1, default=float)


if __name__ == "__main__":
    main()
