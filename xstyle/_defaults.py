"""Torch-free defaults shared by the library and the CLI (whose ``--help`` must not import torch).

``xstyle.transfer.TransferConfig`` takes its defaults from here; ``xstyle.cli`` reads them to build
its parser. (The attribution methods' registry is the torch-free :mod:`xstyle._attribution_methods`.)
"""

from __future__ import annotations

# --- TransferConfig (xstyle.transfer)
GATYS_CONTENT_LAYERS: tuple[str, ...] = ("relu4_2",)
GATYS_STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
TRANSFER_ALPHA = 1.0  # content weight
TRANSFER_BETA = 1e4  # style weight (alpha/beta = 1e-4, a classic strong stylisation)
TRANSFER_SIZE = 512  # long side of the output, px
TRANSFER_STEPS: tuple[int, ...] = (150, 30)  # evaluations per pyramid level, coarsest first
TRANSFER_OPTIMIZER = "lbfgs"
TRANSFER_INIT = "content"
TRANSFER_POOLING = "max"
TRANSFER_WEIGHTS = "caffe"
TRANSFER_PRECISION = "float32"
TRANSFER_SEED = 0
