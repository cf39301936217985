"""The numbers of docs/networks.md: three photo x painting pairs through VGG19-caffe,
EfficientNet-Lite0 and a random-weight ResNet-18, without and with the softmax transform (SWAG).

Run: ``python docs/scripts/compare_networks.py OUT_DIR [--size 128] [--steps 50]``; writes
``networks_plain.json``, ``networks_softmax.json`` and the figures into OUT_DIR, prints the tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from xstyle.explain.style.networks import compare_networks

PAIRS = [
    ("sample:chelsea", "sample:starry_night"),
    ("sample:coffee", "sample:great_wave"),
    ("sample:astronaut", "sample:composition_viii"),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--transforms", default="plain,softmax", help="plain and/or softmax, comma-separated")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.transforms.split(","):
        transform = {"plain": None, "softmax": "softmax"}[name]
        result = compare_networks(
            PAIRS,
            size=args.size,
            steps=args.steps,
            feature_transform=transform,
            progress=lambda m, n=name: print(f"[{n}] {m}", file=sys.stderr, flush=True),
        )
        (out / f"networks_{name}.json").write_text(json.dumps(result.to_dict(), indent=1))
        for kind in ("statistics", "transfers", "judging"):
            result.plot(kind=kind).figure_.savefig(out / f"networks_{name}_{kind}.png", dpi=90)
        print(
            f"## {name}\n\nstyle distance\n{result.table('style')}\n\ncontent distance\n"
            f"{result.table('content')}\n\nratios {result.ratios}\ntimings {result.timings}\n",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
