"""Torch-free defaults shared by the library and the CLI (whose ``--help`` must not import torch).

``xstyle.transfer.TransferConfig`` and ``xstyle.batch.BatchSettings`` take their defaults from here;
``xstyle.cli`` reads them to build its parser. (The attribution methods' registry is the
torch-free :mod:`xstyle._attribution_methods`.)
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
TRANSFER_PRECISION = "float32"  # the library's default: the same numbers on every machine
#: the CLI's and the reports' default: bfloat16 where the hardware computes it (xstyle._precision)
CLI_PRECISION = "auto"
TRANSFER_SEED = 0
#: smallest long side (px) of a coarse pyramid level: below about 256 px VGG19's deep style layers
#: see most of the picture at once, so a coarse level copies the painting's layout instead of its
#: texture; coarser levels are merged into the first level at least this size
TRANSFER_MIN_LEVEL = 256
#: how the losses are weighted (TransferConfig.normalize): "size" (the seed's formulas, content
#: term times (NORMALIZE_REFERENCE_SIZE / L)**2), "seed" (the paper's formulas exactly) or "mean"
TRANSFER_NORMALIZE = "size"
TRANSFER_NORMALIZE_CHOICES: tuple[str, ...] = ("size", "seed", "mean")
#: reference long side (px) of normalize="size": alpha and beta mean at every size what they mean
#: at 512 px under the seed's formulas. The seed's content loss is a sum over positions (it grows
#: with the pixel count) while its Gram style loss is not, so "size" scales the content term by
#: (512 / L)**2, L the long side of the output; a 512 px run is identical to normalize="seed".
NORMALIZE_REFERENCE_SIZE = 512

# --- BatchSettings (xstyle.batch): what each item of a collection computes
BATCH_SIZE = 128  # long side of a stylised pair, px (single scale)
BATCH_STEPS = 60  # L-BFGS evaluations per pair
BATCH_IG_STEPS = 8  # integrated-gradients steps of a pair's maps
BATCH_PAINTING_SIZE = 256  # long side a painting is analysed at, px
BATCH_GAN_SAMPLES = 500  # digits scored per checkpoint
BATCH_PROBE_SAMPLES = 500  # digits probed per checkpoint
BATCH_SEED = 0  # the batch seed (each item derives its own)
