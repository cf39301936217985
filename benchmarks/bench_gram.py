"""Gram decomposition speed: all five Gatys style layers of one 512x512 image.

Cases, interleaved with the order rotated every round (the machine is shared and noisy):

* ``features``: VGG19 (caffe) features relu1_1 .. relu5_1, the network stopped after relu5_1;
* ``decompose (torch eigh f64)``: :func:`xstyle.explain.style.gram.decompose_features` on those features
  (Gram, float64 ``torch.linalg.eigh``, effective ranks, energies, channel shares), the shipped way;
* ``numpy eigh f64``: the same Grams decomposed with ``numpy.linalg.eigh`` (baseline);
* ``torch eigh f32``: float32 eigh (faster; its largest relative eigenvalue error is printed);
* ``features + decompose``: :func:`xstyle.explain.style.gram.decompose_gram` end to end.

Run: ``.venv/bin/python benchmarks/bench_gram.py`` (about a minute on 2 cores), ``--quick`` for a
smoke run at 128 px.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from _machine import machine

from xstyle.data import load_sample
from xstyle.explain.style.gram import _features, decompose_features, decompose_gram
from xstyle.images import resize_image
from xstyle.losses import gram_matrix
from xstyle.models.vgg import load_vgg19
from xstyle.transfer import GATYS_STYLE_LAYERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image side in px (default 512)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per case (default 7)")
    parser.add_argument("--quick", action="store_true", help="one round at 128 px")
    args = parser.parse_args()
    print(machine())
    size, rounds = (128, 1) if args.quick else (args.size, args.rounds)

    layers = list(GATYS_STYLE_LAYERS)
    model = load_vgg19("caffe", last_layer=layers[-1])
    image = resize_image(load_sample("starry_night"), (size, size))
    feats = _features(model, image, layers)
    grams64 = {n: gram_matrix(f)[0].double() for n, f in feats.items()}

    def numpy_eigh() -> None:
        for f in feats.values():
            np.linalg.eigh(gram_matrix(f)[0].double().numpy())

    def torch_f32() -> None:
        for f in feats.values():
            torch.linalg.eigh(gram_matrix(f)[0])

    cases = {
        "features": lambda: _features(model, image, layers),
        "decompose (torch eigh f64)": lambda: decompose_features(feats),
        "numpy eigh f64": numpy_eigh,
        "torch eigh f32": torch_f32,
        "features + decompose": lambda: decompose_gram(image, model=model, layers=layers),
    }
    for fn in cases.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t0)

    err = 0.0
    for g in grams64.values():
        ref = torch.linalg.eigvalsh(g)
        low = torch.linalg.eigvalsh(g.float()).double()
        err = max(err, float((low - ref).abs().max() / ref.abs().max()))
    print(
        f"Gram decomposition of {', '.join(layers)} for a {size}x{size} image "
        f"(torch {torch.__version__}, {torch.get_num_threads()} threads, {rounds} rounds)"
    )
    base = statistics.median(times["decompose (torch eigh f64)"])
    for name in names:
        med = statistics.median(times[name])
        print(f"  {name:<28} median {med:7.3f} s   (x{med / base:.2f} of decompose)")
    print(f"  float32 eigh: largest eigenvalue error relative to the largest eigenvalue {err:.1e}")


if __name__ == "__main__":
    main()
