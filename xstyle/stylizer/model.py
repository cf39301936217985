"""The feed-forward stylizer (Johnson et al. 2016, sized for a CPU) and the patch discriminator.

:class:`TransformNet` maps a photo (B, 3, H, W) in [0, 1] to its stylised version, same size, in
one pass: a 9x9 convolution, two stride-2 convolutions down, residual blocks, two upsampling
convolutions (nearest-neighbour upsampling then a 3x3 convolution, which avoids the checkerboard
of transposed convolutions) and a 9x9 convolution out, with instance normalisation and
non-inplace ReLUs. Submodules are named so hooks can address them::

    conv_in, down1, down2, res1 .. resN (each with a ``branch``: conv-IN-ReLU-conv-IN), up1, up2, conv_out

``res2.branch`` is the residual branch alone; zero-ablating it with
:class:`~xstyle.hooks.Intervention` turns block 2 into the identity. Instance normalisation makes a
branch channel's spatial mean close to zero, so zero ablation is close to mean ablation there.

:class:`PatchDiscriminator` judges whether image patches carry the target style: it maps
(B, 3, h, w) in [0, 1] to a map of real/fake logits (B, 1, h', w'), one per receptive field
(about 46 px with the default 3 stride-2 blocks): ``block1 .. block3, head``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from xstyle._checkpoint_fields import SavedConfigMixin

__all__ = ["ArchConfig", "PatchDiscriminator", "ResidualBlock", "TransformNet"]

# bounds of a sane architecture, so a damaged config cannot ask for gigabytes or endless loops
_MAX_WIDTH = 4096  # channels of a stage
MAX_BLOCKS = 64  # residual blocks; discriminator blocks
_MAX_KERNEL = 31  # side of the outer convolutions


@dataclass(frozen=True, kw_only=True)
class ArchConfig(SavedConfigMixin):
    """Architecture of a stylizer and its discriminator (stored in every checkpoint)."""

    #: channel widths of the full-, half- and quarter-resolution stages
    channels: tuple[int, int, int] = (16, 32, 64)
    n_residual: int = 3  # residual blocks at quarter resolution
    outer_kernel: int = 9  # kernel of the first and last convolution (Johnson et al.: 9)
    disc_channels: tuple[int, ...] = (32, 64, 128)  # one stride-2 block per entry

    _dict_name = "arch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "disc_channels", tuple(int(c) for c in self.disc_channels))
        if len(self.channels) != 3 or any(not 1 <= c <= _MAX_WIDTH for c in self.channels):
            raise ValueError(f"channels must be three widths in [1, {_MAX_WIDTH}]; got {self.channels!r}.")
        if not isinstance(self.n_residual, int) or not 0 <= self.n_residual <= MAX_BLOCKS:
            raise ValueError(
                f"n_residual must be a whole number in [0, {MAX_BLOCKS}]; got {self.n_residual!r}."
            )
        if not 1 <= self.outer_kernel <= _MAX_KERNEL or self.outer_kernel % 2 == 0:
            raise ValueError(
                f"outer_kernel must be an odd number in [1, {_MAX_KERNEL}]; got {self.outer_kernel!r}."
            )
        if not 1 <= len(self.disc_channels) <= MAX_BLOCKS or any(
            not 1 <= c <= _MAX_WIDTH for c in self.disc_channels
        ):
            raise ValueError(
                f"disc_channels must be 1 to {MAX_BLOCKS} widths in [1, {_MAX_WIDTH}]; "
                f"got {self.disc_channels!r}."
            )


def _conv_block(
    c_in: int, c_out: int, kernel: int, *, stride: int = 1, upsample: bool = False
) -> nn.Sequential:
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if upsample:
        layers["upsample"] = nn.Upsample(scale_factor=2, mode="nearest")
    layers["pad"] = nn.ReflectionPad2d(kernel // 2)
    layers["conv"] = nn.Conv2d(c_in, c_out, kernel, stride=stride)
    layers["norm"] = nn.InstanceNorm2d(c_out, affine=True)
    layers["act"] = nn.ReLU(inplace=False)
    return nn.Sequential(layers)


class ResidualBlock(nn.Module):
    """``x + branch(x)`` with ``branch`` = pad-conv3x3-IN-ReLU-pad-conv3x3-IN (Johnson et al.)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            OrderedDict(
                pad1=nn.ReflectionPad2d(1),
                conv1=nn.Conv2d(channels, channels, 3),
                norm1=nn.InstanceNorm2d(channels, affine=True),
                act=nn.ReLU(inplace=False),
                pad2=nn.ReflectionPad2d(1),
                conv2=nn.Conv2d(channels, channels, 3),
                norm2=nn.InstanceNorm2d(channels, affine=True),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


class TransformNet(nn.Module):
    """Photo (B, 3, H, W) in [0, 1] -> stylised image (B, 3, H, W) in [0, 1] (sigmoid output).

    H and W need not be multiples of 4: the output is cropped or padded back to the input size
    (the stride-2 stages round up). See the module docstring for the layer names.
    """

    def __init__(self, arch: ArchConfig | None = None) -> None:
        super().__init__()
        self.arch = arch or ArchConfig()
        c1, c2, c3 = self.arch.channels
        k = self.arch.outer_kernel
        self.conv_in = _conv_block(3, c1, k)
        self.down1 = _conv_block(c1, c2, 3, stride=2)
        self.down2 = _conv_block(c2, c3, 3, stride=2)
        for i in range(1, self.arch.n_residual + 1):
            self.add_module(f"res{i}", ResidualBlock(c3))
        self.up1 = _conv_block(c3, c2, 3, upsample=True)
        self.up2 = _conv_block(c2, c1, 3, upsample=True)
        self.conv_out = nn.Sequential(
            OrderedDict(pad=nn.ReflectionPad2d(k // 2), conv=nn.Conv2d(c1, 3, k), act=nn.Sigmoid())
        )

    @property
    def block_names(self) -> list[str]:
        """Names of the residual blocks, ``["res1", ...]``."""
        return [f"res{i}" for i in range(1, self.arch.n_residual + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"input must have shape (B, 3, H, W) (RGB in [0, 1]); got {tuple(x.shape)}.")
        h, w = x.shape[-2:]
        # reflection padding needs a side larger than the pad: pad tiny inputs up to a multiple of 4
        ph, pw = (-h) % 4, (-w) % 4
        y = nn.functional.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        y = self.down2(self.down1(self.conv_in(y)))
        for name in self.block_names:
            y = getattr(self, name)(y)
        y = self.conv_out(self.up2(self.up1(y)))
        return y[..., :h, :w]


class PatchDiscriminator(nn.Module):
    """Image patches (B, 3, h, w) in [0, 1] -> real/fake logit map (B, 1, h', w') (positive = in style).

    Blocks ``block1 .. blockK`` (4x4 convolution, stride 2, LeakyReLU 0.2; instance normalisation
    after the first) and a 3x3 convolution ``head``. Inputs are shifted to [-1, 1] inside.
    """

    def __init__(self, arch: ArchConfig | None = None) -> None:
        super().__init__()
        self.arch = arch or ArchConfig()
        c_in = 3
        for i, c in enumerate(self.arch.disc_channels, start=1):
            layers: OrderedDict[str, nn.Module] = OrderedDict(conv=nn.Conv2d(c_in, c, 4, stride=2, padding=1))
            if i > 1:
                layers["norm"] = nn.InstanceNorm2d(c, affine=True)
            layers["act"] = nn.LeakyReLU(0.2, inplace=False)
            self.add_module(f"block{i}", nn.Sequential(layers))
            c_in = c
        self.head = nn.Conv2d(c_in, 1, 3, padding=1)

    @property
    def block_names(self) -> list[str]:
        return [f"block{i}" for i in range(1, len(self.arch.disc_channels) + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 2 - 1
        for name in self.block_names:
            y = getattr(self, name)(y)
        return self.head(y)
